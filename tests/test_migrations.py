"""The schema is created and upgraded by migrations, which match the models on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from models.store.database import alembic_config, migrate


def test_migrations_match_the_models_and_go_down_and_up_again(engine: sa.Engine) -> None:
    config = alembic_config(engine)
    command.check(config)  # raises if the models and the migrated schema differ
    command.downgrade(config, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"duban_alembic_version"}
    migrate(engine)
    command.check(config)
