"""What every command needs: settings, an engine, the acting user. Errors become messages.

The data directory (config.settings says where it is) is made only by the commands that set an
installation up, `duban init`, `duban run` and `duban restore`, which say so; any other command
refuses to run on a missing one, naming the setting, rather than start an empty installation
wherever the setting happened to point.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache

from sqlalchemy import Engine, inspect
from sqlmodel import Session

from cli.output import console, fail
from config.channels import Channels, ChannelsInvalid
from config.settings import Settings, SettingsError, load_settings, setting_name
from models.rules.rulebook import Rules
from models.store.database import VERSION_TABLE, behind_migrations, writer
from services.runtime import CONFIGURATION_ERRORS, Runtime, build


@cache
def runtime() -> Runtime:
    """This command's runtime (services.runtime), built once; a bad configuration ends the
    command with the message naming the setting or file."""
    settings = _settings()
    if not settings.data_dir.is_dir():
        fail(f"数据目录 {settings.data_dir} 不存在：请先运行 duban init 创建它，"
             f"或用 {setting_name('data_dir')} 指明已有的数据目录", code=2)
    try:
        return build(settings)
    except CONFIGURATION_ERRORS as exc:
        fail(str(exc), code=2)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)


def make_data_dir() -> None:
    """For the commands that set up (init, run, restore): make the data directory if it is
    missing, and say where."""
    path = _settings().data_dir
    if path.is_dir():
        return
    try:
        path.mkdir(parents=True)
    except OSError as exc:
        fail(f"无法创建数据目录 {path}（{setting_name('data_dir')}）：{exc.strerror}", code=2)
    console.print(f"已创建数据目录：{path}", highlight=False)


def settings() -> Settings:
    return runtime().settings


def engine() -> Engine:
    return runtime().engine


def rules() -> Rules:
    return runtime().rules


def channels() -> Channels:
    try:
        return runtime().channels
    except ChannelsInvalid as exc:
        fail(str(exc), code=2)


def require_database() -> None:
    if not inspect(engine()).has_table(VERSION_TABLE):
        fail(f"数据库尚未初始化（{settings().database}）：请先运行 duban init")
    behind = behind_migrations(engine())
    if behind is not None:
        fail(f"数据库结构是版本 {behind[0]}，本程序需要 {behind[1]}（{settings().database}）："
             "请先运行 duban init 升级数据库")


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
    """The runtime's clock: the real time, or 09:00 of DUBAN_AS_OF's day in a replay."""
    return runtime().now()
