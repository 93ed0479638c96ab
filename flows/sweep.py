"""One supervision sweep: evaluate what is due for a look, record changes, queue notices.

Plain functions over the database, with no Prefect: the flows in ``flows.supervise`` wrap them,
and the CLI calls them directly for one-shot runs.

Algorithm, batch by batch (keyset on milestone id, one transaction per batch):
1. Select open milestones whose ``next_check_on`` is today or earlier (or never set), not
   retired; on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so concurrent sweeps share the work.
2. Load their facts (events, recorded ladder steps) with one query each.
3. For each: compute status and ladder steps (pure rules), and the next day anything can change.
4. Write the status under the row's version; a row that moved under us is skipped (another
   sweep or an action already handled it).
5. Insert each new step with ON CONFLICT DO NOTHING on its unique key; only a step this sweep
   inserted queues notifications, in the same transaction.
6. Commit (or, for a dry run, roll back: nothing is kept, and the report says what would happen).
A crash loses at most the open batch, which the next sweep redoes: no step is lost, none doubled.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from flows.indicators import sweep_indicators
from models.db import writer
from models.directory import Directory
from models.escalation import Sent, Step, next_step_on, reached_level, steps_due
from models.escalation_log import EscalationStep, Notification
from models.facts import ladder_facts, milestone_facts
from models.milestone import Milestone
from models.plan import Plan, Project
from models.rules import Rules
from models.status import OPEN_STATES, Status, milestone_status, next_change_on
from models.tracking import write_status

ACTOR = "system:sweep"
NOTIFICATION_KIND = {1: "reminder", 2: "notice"}  # 3 and above: "leader"


@dataclass
class SweepReport:
    sweep_id: str
    as_of: date
    dry_run: bool
    evaluated: int = 0
    skipped_stale: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    notifications: int = 0
    indicator_changes: list[dict[str, Any]] = field(default_factory=list)
    provisional: bool = False
    projects: dict[str, Counter[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"sweep_id": self.sweep_id, "as_of": self.as_of.isoformat(),
                "dry_run": self.dry_run, "evaluated": self.evaluated,
                "skipped_stale": self.skipped_stale, "changes": self.changes,
                "escalations": self.escalations, "notifications": self.notifications,
                "indicator_changes": self.indicator_changes, "provisional": self.provisional,
                "projects": {code: dict(c) for code, c in sorted(self.projects.items())}}


def run_sweep(*, engine: Engine, rules: Rules, now: datetime, dry_run: bool = False,
              project_id: int | None = None, batch_size: int = 1000) -> SweepReport:
    today = rules.today(now)
    report = SweepReport(uuid.uuid4().hex, today, dry_run)
    last_id = 0
    while True:
        with Session(writer(engine)) as session:
            batch = _candidates(session, today, last_id, project_id, batch_size)
            if not batch:
                break
            last_id = batch[-1][0].id
            directory = Directory(session=session)
            _evaluate(session, batch, rules, today, now, directory, report)
            session.rollback() if dry_run else session.commit()
    with Session(writer(engine)) as session:
        report.indicator_changes = sweep_indicators(session=session, rules=rules, now=now,
                                                    project_id=project_id)
        session.rollback() if dry_run else session.commit()
    return report


def _candidates(session: Session, today: date, after_id: int, project_id: int | None,
                limit: int) -> list[tuple[Milestone, str, str]]:
    query = (select(Milestone, Project.code, Plan.code)
             .join(Project, col(Project.id) == Milestone.project_id)
             .join(Plan, col(Plan.id) == Project.plan_id)
             .where(col(Milestone.state).in_(list(OPEN_STATES)),
                    col(Milestone.retired_at).is_(None), col(Milestone.id) > after_id,
                    or_(col(Milestone.next_check_on).is_(None), Milestone.next_check_on <= today))
             .order_by(Milestone.id).limit(limit))
    if project_id is not None:
        query = query.where(Milestone.project_id == project_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Milestone)  # type: ignore[arg-type]
    return [tuple(row) for row in session.exec(query).all()]  # type: ignore[misc]


def _evaluate(session: Session, batch: list[tuple[Milestone, str, str]], rules: Rules,
              today: date, now: datetime, directory: Directory, report: SweepReport) -> None:
    milestones = [m for m, _, _ in batch]
    facts = milestone_facts(session=session, milestones=milestones, zone=rules.zone)
    statuses: dict[int, Status] = {}
    for milestone, _, plan_code in batch:
        policy = rules.policy(plan_code)
        statuses[milestone.id] = milestone_status(  # type: ignore[index]
            facts[milestone.id], today, rules.calendar, policy.due_soon_workdays)  # type: ignore[index]
    ladders = ladder_facts(session=session, milestones=milestones,
                           due={i: s.due_on for i, s in statuses.items()})
    for milestone, project_code, plan_code in batch:
        policy = rules.policy(plan_code)
        status, ladder = statuses[milestone.id], ladders[milestone.id]  # type: ignore[index]
        steps = steps_due(status, ladder, policy, today, rules.calendar)
        after = replace(ladder, sent=ladder.sent + tuple(Sent(s.level, s.repeat, today)
                                                         for s in steps))
        level = reached_level(status, ladder, policy)
        next_check = min((d for d in (next_change_on(status, today),
                                      next_step_on(status, after, policy, today, rules.calendar))
                          if d is not None), default=None)
        old_state, old_light = milestone.state, milestone.light
        report.evaluated += 1
        counter = report.projects.setdefault(f"{plan_code}/{project_code}", Counter())
        counter["evaluated"] += 1
        if not write_status(session=session, milestone=milestone, status=status, level=level,
                            next_check_on=next_check, now=now, actor=ACTOR, why="sweep"):
            report.skipped_stale += 1
            continue
        report.provisional |= status.provisional
        if (old_state, old_light) != (status.state, status.light):
            counter["changed"] += 1
            report.changes.append({"milestone_id": milestone.id, "plan": plan_code,
                                   "project": project_code, "title": milestone.title,
                                   "from": old_state, "to": status.state, "light": status.light,
                                   "due_on": status.due_on.isoformat()})
        for step in steps:
            if _record_step(session, milestone, status, step, today, now, directory, report,
                            policy.level(step.level).recipients, policy.level(step.level).name,
                            plan_code, project_code):
                counter["escalations"] += 1


def _record_step(session: Session, milestone: Milestone, status: Status, step: Step,
                 today: date, now: datetime, directory: Directory, report: SweepReport,
                 roles: list[str], level_name: str, plan_code: str, project_code: str) -> bool:
    """Insert the step under its unique key; queue its notices only if this sweep inserted it."""
    recipients = directory.recipients(roles, milestone.unit_id)
    values = {"milestone_id": milestone.id, "due_on": status.due_on, "level": step.level,
              "repeat": step.repeat, "reason": step.reason, "as_of": today,
              "recipients": len(recipients), "created_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(EscalationStep).values(**values)
        .on_conflict_do_nothing(index_elements=["milestone_id", "due_on", "level", "repeat"])
        .returning(EscalationStep.id)).scalar_one_or_none()
    if inserted is None:
        return False
    context = {"milestone_id": milestone.id, "title": milestone.title, "plan": plan_code,
               "project": project_code, "unit_id": milestone.unit_id,
               "due_on": status.due_on.isoformat(), "level": step.level,
               "level_name": level_name, "repeat": step.repeat, "reason": step.reason,
               "overdue_workdays": status.overdue_workdays, "as_of": today.isoformat(),
               "commitment": milestone.commitment}
    for recipient in recipients:
        session.add(Notification(
            key=f"escalation:{inserted}:{recipient.email}",
            kind=NOTIFICATION_KIND.get(step.level, "leader"), person_id=recipient.person_id,
            address=recipient.email, escalation_id=inserted, milestone_id=milestone.id,
            sweep_id=report.sweep_id, context=context | {"recipient": recipient.name},
            created_at=now))
    report.notifications += len(recipients)
    report.escalations.append({"milestone_id": milestone.id, "plan": plan_code,
                               "project": project_code, "title": milestone.title,
                               "level": step.level, "repeat": step.repeat,
                               "reason": step.reason, "recipients": len(recipients)})
    return True
