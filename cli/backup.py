"""`duban backup FILE` and `duban restore FILE`: the embedded default's database and evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import context
from cli.output import console, fail


def backup(target: Annotated[Path, typer.Argument(help="the archive to write (.tar)")]) -> None:
    """Copy the SQLite database (online, consistent) and the evidence files into one archive."""
    from services.backup import BackupRefused
    from services.backup import backup as take

    settings = context.settings()
    try:
        done = take(database_url=settings.database, data_dir=settings.data_dir, target=target)
    except BackupRefused as exc:
        fail(str(exc), code=2)
    console.print(f"已备份到 {target}：数据库 {done.database_bytes} 字节，佐证材料 "
                  f"{done.attachments} 个。", highlight=False)


def restore(source: Annotated[Path, typer.Argument(help="an archive made by duban backup")],
            ) -> None:
    """Replace the database and the evidence files with a backup's (the service must be
    stopped); what is replaced is kept beside it as *.before-restore."""
    from flows.scheduler import SchedulerBusy, hold_scheduler_lock
    from services.backup import BackupRefused
    from services.backup import restore as put_back

    if not source.is_file():
        fail(f"备份文件不存在：{source}", code=2)
    context.make_data_dir()
    settings = context.settings()
    try:
        with hold_scheduler_lock(settings.database, settings.data_dir):
            done = put_back(database_url=settings.database, data_dir=settings.data_dir,
                            source=source)
    except SchedulerBusy:
        fail("duban run 正在使用该数据库：请先停止服务再恢复。", code=3)
    except BackupRefused as exc:
        fail(str(exc), code=2)
    console.print(f"已从 {source} 恢复：数据库 {done.database_bytes} 字节，佐证材料 "
                  f"{done.attachments} 个；原文件保留为 *.before-restore。", highlight=False)
