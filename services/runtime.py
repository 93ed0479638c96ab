"""The one composition root: settings, the engine, the rules in force and the clock.

Every entry point builds one `Runtime` here and hands it down: the CLI (cli/context.py), the
web app (``web.app.create_app(runtime)``) and the flows, which run in processes no caller
reaches (a Prefect worker, an APScheduler job) and so take the process's own (`current`).

The clock is part of the runtime so that an operation reads it once and passes ``now`` on,
and so that a test moves time by moving the clock (`FixedClock.advance`), never by sleeping.
``DUBAN_AS_OF`` (settings.as_of) replays a whole service at 09:00 of a fixed day: the clock
then stands still there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property

from sqlalchemy import Engine

from config.channels import Channels, ChannelsInvalid, load_channels
from config.policy import PolicyInvalid
from config.secret import secret_key
from config.settings import Settings, SettingsError, load_settings
from models.rules.rulebook import Rules, load_rules
from models.rules.workdays import CalendarFileInvalid
from models.store.database import make_engine

Clock = Callable[[], datetime]

# What a bad configuration raises while a runtime is built: the CLI prints it and exits 2.
CONFIGURATION_ERRORS = (SettingsError, PolicyInvalid, CalendarFileInvalid, ChannelsInvalid)


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that stands still until it is moved: replays and tests."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    rules: Rules
    clock: Clock = system_clock
    secret_override: str | None = field(default=None, repr=False)

    def now(self) -> datetime:
        return self.clock()

    def at(self, day: date | None) -> datetime:
        """The instant an operation stands at: 09:00 local on ``day`` (a replay or a preview
        of that day), or now."""
        return self.rules.as_of(day) if day is not None else self.now()

    @cached_property
    def secret(self) -> str:
        """The key that signs sessions and email links; read (or made, in the data directory)
        only when something signs, so that read-only commands create nothing."""
        return self.secret_override or secret_key(self.settings)

    @cached_property
    def channels(self) -> Channels:
        """The group-chat robots and quiet hours (config/channels.yaml), read on first use."""
        return load_channels()


def build(settings: Settings | None = None, *, engine: Engine | None = None,
          rules: Rules | None = None, clock: Clock | None = None,
          secret: str | None = None) -> Runtime:
    """A runtime from the configuration (or the parts given). Raises one of
    ``CONFIGURATION_ERRORS`` naming the bad setting or file."""
    settings = settings if settings is not None else load_settings()
    rules = rules if rules is not None else load_rules(settings.zone, settings.policy_file)
    if clock is None:
        clock = FixedClock(rules.as_of(settings.as_of)) if settings.as_of else system_clock
    return Runtime(settings=settings, engine=engine or make_engine(settings.database),
                   rules=rules, clock=clock, secret_override=secret)


@cache
def current() -> Runtime:
    """This process's runtime, for code that no caller hands one to: Prefect flows and the
    scheduler's jobs. Built once; tests that change the environment call ``cache_clear``."""
    return build()
