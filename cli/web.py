"""`duban web`: the owners' and office's web app alone (`duban run` is the scheduler)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from cli import context
from cli.output import console


def secret_key(data_dir: Path) -> str:
    """The key that signs sessions and email links: DUBAN_SECRET_KEY, or a random key made
    once and kept in the data directory (readable by its owner only)."""
    configured = context.settings().secret_key.get_secret_value()
    if configured:
        return configured
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def web(host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="port")] = 8000) -> None:
    """Serve the web app (people sign in with `duban people password` first)."""
    import uvicorn

    from web.app import create_app

    context.require_database()
    settings = context.settings()
    app = create_app(engine=context.engine(), rules=context.rules(), settings=settings,
                     secret=secret_key(settings.data_dir))
    console.print(f"督办网页：http://{host}:{port}/ （Ctrl+C 停止）", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")
