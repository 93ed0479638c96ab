"""What every command needs: settings, an engine, the acting user. Errors become messages."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import Engine, inspect
from sqlmodel import Session

from cli.output import fail
from config.settings import Settings, SettingsError, load_settings
from models.db import VERSION_TABLE, make_engine


@cache
def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)


@cache
def engine() -> Engine:
    return make_engine(settings().database)


@contextmanager
def session(*, must_exist: bool = True) -> Iterator[Session]:
    """A session for one command; rolled back on any error so nothing is half-written."""
    if must_exist and not inspect(engine()).has_table(VERSION_TABLE):
        fail(f"数据库尚未初始化（{settings().database}）：请先运行 duban init")
    with Session(engine()) as db:
        try:
            yield db
        except BaseException:
            db.rollback()
            raise


def actor() -> str:
    return f"cli:{getpass.getuser()}"


def now() -> datetime:
    return datetime.now(UTC)
