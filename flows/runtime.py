"""Process-wide settings, engine and rules for flows and the scheduler (loaded once)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache

from sqlalchemy import Engine

from config.settings import Settings, load_settings
from models.rules.rulebook import Rules, load_rules
from models.store.database import make_engine


@cache
def settings() -> Settings:
    return load_settings()


@cache
def engine() -> Engine:
    return make_engine(settings().database)


@cache
def rules() -> Rules:
    return load_rules(settings().zone)


def now(as_of: date | None = None) -> datetime:
    """The engine's clock: the real time, or 09:00 local on ``as_of`` (replay and preview).

    ``DUBAN_AS_OF`` (settings.as_of) replays a whole service at a fixed day.
    """
    day = as_of or settings().as_of
    return rules().as_of(day) if day is not None else datetime.now(UTC)
