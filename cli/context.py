"""What every command needs: settings, an engine, the acting user. Errors become messages."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect
from sqlmodel import Session

from cli.output import fail
from config.settings import Settings, SettingsError, load_settings
from models.store.database import VERSION_TABLE, make_engine, writer

if TYPE_CHECKING:
    from config.channels import Channels
    from models.rules.rulebook import Rules


@cache
def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)


@cache
def engine() -> Engine:
    return make_engine(settings().database)


@cache
def rules() -> Rules:
    from config.policy import PolicyInvalid
    from models.rules.rulebook import load_rules
    from models.rules.workdays import CalendarFileInvalid

    try:
        return load_rules(settings().zone)
    except (PolicyInvalid, CalendarFileInvalid) as exc:
        fail(str(exc), code=2)


@cache
def channels() -> Channels:
    from config.channels import ChannelsInvalid, load_channels

    try:
        return load_channels()
    except ChannelsInvalid as exc:
        fail(str(exc), code=2)


def require_database() -> None:
    if not inspect(engine()).has_table(VERSION_TABLE):
        fail(f"数据库尚未初始化（{settings().database}）：请先运行 duban init")


@contextmanager
def session() -> Iterator[Session]:
    """A session for one command; rolled back on any error so nothing is half-written."""
    require_database()
    with Session(writer(engine())) as db:
        try:
            yield db
        except BaseException:
            db.rollback()
            raise


def actor() -> str:
    return f"cli:{getpass.getuser()}"


def now() -> datetime:
    """The real clock, unless DUBAN_AS_OF replays the engine at a fixed day."""
    day = settings().as_of
    return rules().as_of(day) if day is not None else datetime.now(UTC)
