"""The data: tables, the pure rules over them, and the only code that touches the database.

- ``models.tables``: SQLModel tables, no queries;
- ``models.rules``: pure functions and values (status, ladder, calendar, permissions, links,
  passwords, bulletin figures): no database, no clock, no network;
- ``models.store``: loaders and writers, the only modules that open a query;
- ``models.migrations``: Alembic.

Imports go store → rules → tables → config (checked by import-linter, see pyproject.toml).
Importing this package registers every table on ``SQLModel.metadata``.
"""

from models.tables import (
    ApiToken,
    Attachment,
    BulletinRecord,
    EscalationStep,
    Event,
    Indicator,
    IndicatorReading,
    IndicatorTarget,
    LinkUse,
    Message,
    Milestone,
    Notice,
    Person,
    Plan,
    Project,
    SweepRun,
    Unit,
)

__all__ = ["ApiToken", "Attachment", "BulletinRecord", "EscalationStep", "Event", "Indicator",
           "IndicatorReading", "IndicatorTarget", "LinkUse", "Message", "Milestone",
           "Notice", "Person", "Plan", "Project", "SweepRun", "Unit"]
