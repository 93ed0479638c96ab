"""Backing up and restoring the embedded default: the SQLite database and the evidence files.

A backup is one tar file holding ``duban.db``, a consistent copy taken online with SQLite's
backup API (readers and writers carry on while it runs), and ``attachments/``. The database is
copied first and the files after: an evidence file is written before the row that names it is
committed and is never deleted, so every file the copied rows name is in the archive (a file
uploaded during the backup may be there too, unnamed, which is harmless).

Restoring needs the service stopped (it takes the scheduler lock that `duban run` holds, so it
is refused while one runs) and keeps what it replaces beside it, ``duban.db.before-restore``
and ``attachments.before-restore``, so a restore can itself be undone. PostgreSQL has its own
tools for this (pg_dump / pg_restore, see the README); these refuse it with that advice.
"""

from __future__ import annotations

import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

DATABASE_MEMBER = "duban.db"
ATTACHMENTS_MEMBER = "attachments"
BEFORE_RESTORE = ".before-restore"


class BackupRefused(ValueError):
    """Why a backup or restore cannot be done; the message says what to do instead."""


@dataclass(frozen=True)
class Archived:
    database_bytes: int
    attachments: int


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupRefused("duban backup/restore 只用于内置的 SQLite 数据库；PostgreSQL 请用 "
                            "pg_dump -Fc 备份、pg_restore 恢复（见 README“数据库”一节），"
                            "并另行复制数据目录下的 attachments/。")
    if not url.database or url.database == ":memory:":
        raise BackupRefused("内存数据库无法备份。")
    return Path(url.database)


def backup(*, database_url: str, data_dir: Path, target: Path) -> Archived:
    """Write the archive to ``target`` (through a temporary file: a half-written archive is
    never left under the name asked for)."""
    database = sqlite_path(database_url)
    if not database.exists():
        raise BackupRefused(f"数据库文件不存在：{database}")
    attachments = data_dir / ATTACHMENTS_MEMBER
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        copy = Path(work) / DATABASE_MEMBER
        source = sqlite3.connect(database)
        destination = sqlite3.connect(copy)
        try:
            source.backup(destination)
        finally:
            destination.close()
            source.close()
        partial = Path(work) / "archive.tar"
        files = sorted(p for p in attachments.iterdir() if p.is_file()) \
            if attachments.is_dir() else []
        with tarfile.open(partial, "w") as archive:
            archive.add(copy, arcname=DATABASE_MEMBER)
            archive.addfile(_directory(ATTACHMENTS_MEMBER))
            for path in files:
                archive.add(path, arcname=f"{ATTACHMENTS_MEMBER}/{path.name}")
        size = copy.stat().st_size
        partial.replace(target)
    return Archived(size, len(files))


def restore(*, database_url: str, data_dir: Path, source: Path) -> Archived:
    """Replace the database and the evidence files with the archive's. The caller holds the
    scheduler lock, so no service is running on them."""
    database = sqlite_path(database_url)
    attachments = data_dir / ATTACHMENTS_MEMBER
    with tempfile.TemporaryDirectory(dir=database.parent) as work:
        unpacked = Path(work)
        try:
            with tarfile.open(source, "r") as archive:
                names = archive.getnames()
                if DATABASE_MEMBER not in names:
                    raise BackupRefused(f"{source} 不是 duban 备份：其中没有 {DATABASE_MEMBER}")
                archive.extractall(unpacked, filter="data")  # no paths outside, no links out
        except (tarfile.TarError, OSError) as exc:
            raise BackupRefused(f"{source} 无法读取：{exc}") from None
        copy = unpacked / DATABASE_MEMBER
        check = sqlite3.connect(copy)
        try:
            if check.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupRefused(f"{source} 中的数据库已损坏，未恢复。")
        except sqlite3.DatabaseError as exc:
            raise BackupRefused(f"{source} 中的数据库无法打开：{exc}") from None
        finally:
            check.close()
        for old in (database, Path(f"{database}-wal"), Path(f"{database}-shm"), attachments):
            kept = old.with_name(old.name + BEFORE_RESTORE)
            if kept.is_dir():
                shutil.rmtree(kept)
            elif kept.exists():
                kept.unlink()
            if old.exists():
                old.replace(kept)
        copy.replace(database)
        restored = unpacked / ATTACHMENTS_MEMBER
        restored.mkdir(exist_ok=True)
        shutil.move(restored, attachments)  # the data directory may be on another disk
    return Archived(database.stat().st_size, sum(1 for _ in attachments.iterdir()))


def _directory(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    return info

