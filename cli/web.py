"""`duban web`: the owners' and office's web app alone; and the web app served in a thread,
which is how `duban run` serves it next to the scheduler."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from cli import context
from cli.output import console

if TYPE_CHECKING:
    from fastapi import FastAPI

START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 15
GRACE_SECONDS = 5  # requests in flight at shutdown get this long to finish
WORKER_APP = "web.app:create_app_from_environment"  # what each of uvicorn's workers imports


class WebNotStarted(RuntimeError):
    """uvicorn did not start listening (the port taken, the address not on this machine)."""


def web(host: Annotated[str | None, typer.Option(
            help="address to listen on [default: web_host, 127.0.0.1]")] = None,
        port: Annotated[int | None, typer.Option(
            help="port [default: web_port, 8000]")] = None,
        workers: Annotated[int, typer.Option(
            min=1, help="worker processes; they share the database, sign-in limit included")] = 1,
        ) -> None:
    """Serve the web app (people sign in with `duban people password` first)."""
    import uvicorn

    context.require_database()
    settings = context.settings()
    host, port = host or settings.web_host, port or settings.web_port
    console.print(f"督办网页：http://{host}:{port}/ （Ctrl+C 停止）", highlight=False)
    if workers == 1:
        uvicorn.run(web_app(), host=host, port=port, log_level="warning")
        return
    _ = context.runtime().secret  # the key is made here once, not raced by the workers
    # Each worker builds its own runtime from the same environment and config file.
    uvicorn.run(WORKER_APP, factory=True, workers=workers, host=host, port=port,
                log_level="warning", timeout_graceful_shutdown=GRACE_SECONDS)


def web_app() -> FastAPI:
    """The web app on this command's settings, signing with the key the sender signs links with."""
    from web.app import create_app

    return create_app(context.runtime())


@contextmanager
def served(application: FastAPI, *, host: str, port: int) -> Iterator[None]:
    """Serve `application` with uvicorn in a daemon thread while the context lasts.

    uvicorn handles signals only in the main thread, so in this one it leaves them alone: the
    main thread keeps Ctrl+C and SIGTERM (the scheduler stops on them) and, on leaving the
    context, tells uvicorn to finish its requests and waits for it, a bounded time. Raises
    WebNotStarted when it is not listening within START_TIMEOUT_SECONDS (uvicorn logs why).
    """
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(application, host=host, port=port,
                                           log_level="warning",
                                           timeout_graceful_shutdown=GRACE_SECONDS))
    thread = threading.Thread(target=server.run, name="duban-web", daemon=True)
    thread.start()
    try:
        for _ in range(START_TIMEOUT_SECONDS * 20):
            if server.started or not thread.is_alive():
                break
            thread.join(0.05)  # a bounded wait that ends at once if uvicorn gives up
        if not server.started:
            raise WebNotStarted(f"网页未能在 {host}:{port} 启动（端口已被占用？）")
        yield
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_SECONDS)
