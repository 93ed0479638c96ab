"""`duban web`: the owners' and office's web app alone (`duban run` is the scheduler)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import context
from cli.output import console
from config.secret import secret_key


def web(host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="port")] = 8000) -> None:
    """Serve the web app (people sign in with `duban people password` first)."""
    import uvicorn

    from web.app import create_app

    context.require_database()
    settings = context.settings()
    app = create_app(engine=context.engine(), rules=context.rules(), settings=settings,
                     secret=secret_key(settings))
    console.print(f"督办网页：http://{host}:{port}/ （Ctrl+C 停止）", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")
