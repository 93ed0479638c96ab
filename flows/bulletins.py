"""Issuing bulletins: the weekly run for every plan, and one scope on demand.

Each bulletin (scope × period × edition) is generated and sent in its own write transaction, so
a failure in one plan's bulletin neither loses nor half-writes another's. The weekly run is a
Prefect flow like the sweep, triggered by APScheduler (``duban run``) or by the deployment
(``duban deploy``), Monday 09:00 Asia/Shanghai by default (``schedule.bulletin`` in the policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from models.rules.bulletin.editions import Edition
from models.rules.bulletin.periods import Period, PeriodKind, period_ending_before
from models.rules.rulebook import Rules
from models.store.database import writer
from models.tables.columns import saved_id
from models.tables.plan import Plan
from notifications.bulletin.publish import generate, send


@dataclass(frozen=True)
class Issued:
    id: int
    scope: str
    edition: str
    period: Period
    replaced: bool
    queued: int


def issue(*, engine: Engine, rules: Rules, settings: Settings, plan: str | None,
          period: Period, editions: list[Edition], send_it: bool, resend: bool, actor: str,
          now: datetime) -> list[Issued]:
    done = []
    for edition in editions:
        with Session(writer(engine)) as session:
            bulletin, replaced = generate(session=session, rules=rules, settings=settings,
                                          plan=plan, period=period, edition=edition, actor=actor,
                                          now=now)
            queued = send(session=session, settings=settings, bulletin=bulletin, resend=resend,
                          actor=actor, now=now) if send_it else 0
            session.commit()
            done.append(Issued(saved_id(bulletin), bulletin.scope, edition.value,
                               period, replaced, queued))
    return done


def active_plans(session: Session, period: Period) -> list[str]:
    """Plans whose years include the period's last day."""
    year = period.last.year
    return list(session.exec(select(Plan.code).where(
        col(Plan.start_year) <= year, col(Plan.end_year) >= year).order_by(Plan.code)))


def weekly(*, engine: Engine, rules: Rules, settings: Settings, issued_on: date,
           now: datetime) -> list[Issued]:
    """Both editions of last week's bulletin for every plan running then, sent."""
    period = period_ending_before(PeriodKind.week, issued_on)
    with Session(engine) as session:
        plans = active_plans(session, period)
    issued: list[Issued] = []
    for plan in plans:
        issued += issue(engine=engine, rules=rules, settings=settings, plan=plan, period=period,
                        editions=[Edition.internal, Edition.public], send_it=True, resend=False,
                        actor="system:bulletin", now=now)
    return issued


def weekly_flow_result(issued: list[Issued]) -> dict[str, Any]:
    return {"bulletins": [{"id": i.id, "scope": i.scope, "edition": i.edition,
                           "queued": i.queued} for i in issued],
            "queued": sum(i.queued for i in issued)}
