"""Alembic environment: runs on the engine Duban hands it (see models.store.database.migrate).

For `alembic revision --autogenerate` from a shell, set DUBAN_DATABASE_URL (or rely on the
default SQLite file) and run alembic with `-c alembic.ini` from the repository root.
"""

from __future__ import annotations

from alembic import context
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)
from models.store.database import VERSION_TABLE, make_engine

# Tables that live in the app database but belong to others (APScheduler's job store).
FOREIGN_TABLES = {"apscheduler_jobs"}
# PostgreSQL's trigram indexes for text search, made by migration 0008 on PostgreSQL alone: the
# models cannot declare an index that exists on one backend only.
BACKEND_INDEXES = {"ix_milestone_title_trgm", "ix_project_name_trgm"}


def include_name(name: str | None, type_: NameFilterType,
                 parent_names: NameFilterParentNames) -> bool:
    return not ((type_ == "table" and name in FOREIGN_TABLES)
                or (type_ == "index" and name in BACKEND_INDEXES))


def run() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from config.settings import load_settings

        engine = make_engine(load_settings().database)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            version_table=VERSION_TABLE,
            include_name=include_name,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
