"""Turning a finished sweep's notices into messages: one digest email per person, one post per
group-chat target. Each message is rendered and stored before anything is sent.

A notice names roles, not people (models/tables/escalation.py): its recipients are resolved
here, from its item's unit and co-units and the directory as it is at composition.

Algorithm, per sweep not composed yet (finished, or started more than an hour ago and so
presumably dead):
1. For each configured webhook target, one post (key ``webhook:<sweep>:<target>``) listing the
   most severe items about its units or to its roles, not before the end of its quiet hours.
2. Resolve whom the sweep's notices tell, by address (two grouped queries and the directory).
3. Then, 200 addresses per transaction, skipping those whose digest is stored: load the notices
   reaching them with the names and recent history of the milestones they cover; render
   ``escalation_digest`` per address, each item once and at most ``digest_item_cap`` in full
   (models/rules/digest.py), its item links signed for the person behind the address
   (notifications/links.py); insert it under the key ``digest:<sweep>:<address>`` (ON CONFLICT
   DO NOTHING, so a second composer adds nothing).
4. Mark the sweep composed.
Each transaction lands whole or not at all; the keys make every step safe to repeat.

A message that cannot be composed (a template or context that raises, an address no header
can carry, a row the database refuses) is stored under its key as a dead letter with the
reason and a ``message.dead`` event, in a savepoint of its own: the next round does not trip
on it again, and the others are composed and sent.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from config.channels import Channels
from config.settings import Settings
from models.rules.digest import Digest, digest_of, shared_filters
from models.store.database import is_item_fault, writer
from models.store.directory import CO_UNIT_ROLES, Directory, Recipient
from models.store.events import record
from models.store.light_changes import history_of
from models.store.orders import may_sign
from models.tables.co_unit import MilestoneCoUnit
from models.tables.columns import saved_id, table_of
from models.tables.escalation import ROLE_SEPARATOR, EscalationStep, Notice
from models.tables.event_kinds import EventKind
from models.tables.message import Channel, Message, MessageStatus
from models.tables.milestone import Milestone
from models.tables.order import SupervisionOrder
from models.tables.person import Person
from models.tables.plan import Plan, Project
from models.tables.sweep_run import SweepRun
from models.tables.unit import Unit
from notifications.email_message import build_email, message_id_for
from notifications.history_words import HISTORY_KINDS, HISTORY_WORDS
from notifications.links import ItemLinks
from notifications.order_document import order_context, order_pdf
from notifications.render import Rendered, render
from notifications.webhooks import escape_markdown, next_send_time
from notifications.work_notice_round import routed

log = logging.getLogger(__name__)
STALE_SWEEP = timedelta(hours=1)
ADDRESSES_PER_TRANSACTION = 200
ORDER_ATTACHMENTS = 5  # 督办单 PDFs one e-mail carries at most
POST_ITEMS = 30  # a group-chat post lists the most severe items and counts the rest


@dataclass
class ComposeReport:
    emails: int = 0
    posts: int = 0
    dead: int = 0  # messages that could not be composed: dead letters from the start


def compose_due(*, engine: Engine, settings: Settings, channels: Channels,
                now: datetime) -> ComposeReport:
    report = ComposeReport()
    with Session(engine) as session:
        sweeps = session.exec(select(SweepRun.id).where(
            col(SweepRun.composed_at).is_(None),
            sa.or_(col(SweepRun.finished_at).is_not(None),
                   col(SweepRun.started_at) < now - STALE_SWEEP))
            .order_by(col(SweepRun.started_at))).all()
    for sweep_id in sweeps:
        _compose_sweep(engine, sweep_id, settings, channels, now, report)
    return report


def _compose_sweep(engine: Engine, sweep_id: str, settings: Settings, channels: Channels,
                   now: datetime, report: ComposeReport) -> None:
    """Posts first, then the emails a chunk of addresses at a time, each in its own transaction:
    memory stays bounded on a first sweep of a million items, and whatever a crash leaves
    undone is picked up by the next round (the keys make every step repeatable). Last, the
    sweep is marked composed."""
    with Session(writer(engine)) as session:
        _compose_posts(session, sweep_id, channels, settings, now, report)
        session.commit()
    with Session(engine) as session:
        readers = _readers(session, sweep_id)
    addresses = sorted(readers)
    for start in range(0, len(addresses), ADDRESSES_PER_TRANSACTION):
        with Session(writer(engine)) as session:
            _compose_emails(session, sweep_id, {a: readers[a] for a in addresses[
                start:start + ADDRESSES_PER_TRANSACTION]}, settings, now, report)
            session.commit()
    with Session(writer(engine)) as session:
        session.execute(sa.update(SweepRun).where(col(SweepRun.id) == sweep_id)
                        .values(composed_at=now))
        session.commit()


_Audience = tuple[bool, int, str]  # (through a co-unit?, the unit, the notice's roles)


@dataclass
class _Reader:
    """One address a sweep's notices reach, and through which units and roles."""

    recipient: Recipient
    audiences: set[_Audience] = field(default_factory=set)

    def add(self, recipient: Recipient, audience: _Audience) -> None:
        # A unit's contact address can also be a person's: then that person reads it.
        if self.recipient.person_id is None and recipient.person_id is not None:
            self.recipient = recipient
        self.audiences.add(audience)


def _readers(session: Session, sweep_id: str) -> dict[str, _Reader]:
    """Whom the sweep's notices tell, by address: each notice's roles resolved in its item's
    lead unit, and for the roles that are a unit's (owner, unit_head) in its co-units too
    (models.store.directory, as it is now). Two grouped queries, however many notices."""
    lead = session.execute(
        sa.select(Milestone.unit_id, Notice.roles).distinct()  # type: ignore[call-overload]
        .join(Milestone, col(Milestone.id) == Notice.milestone_id)
        .where(Notice.sweep_id == sweep_id)).all()
    co = session.execute(
        sa.select(MilestoneCoUnit.unit_id, Notice.roles).distinct()  # type: ignore[call-overload]
        .join(MilestoneCoUnit, col(MilestoneCoUnit.milestone_id) == Notice.milestone_id)
        .where(Notice.sweep_id == sweep_id)).all()
    directory = Directory(session=session)
    directory.load(session, {unit for unit, _ in (*lead, *co)})
    readers: dict[str, _Reader] = {}
    for through_co, rows in ((False, lead), (True, co)):
        for unit_id, roles in rows:
            wanted = [r for r in roles.split(ROLE_SEPARATOR)
                      if not through_co or r in CO_UNIT_ROLES]
            for recipient in directory.recipients(wanted, unit_id):
                readers.setdefault(recipient.email, _Reader(recipient)).add(
                    recipient, (through_co, unit_id, roles))
    return readers


def addresses_told(session: Session, sweep_id: str) -> dict[str, set[str]]:
    """Whom each of the sweep's notices tells, by the notice's key: the addresses whose digest
    of this sweep it is in, resolved as the digests are (the one place the rule lives)."""
    readers = _readers(session, sweep_id)
    reached = _notices_reaching(session, sweep_id, set().union(
        *(r.audiences for r in readers.values())))
    keys = dict(session.exec(select(Notice.id, Notice.key).where(
        Notice.sweep_id == sweep_id)).all())
    found: dict[str, set[str]] = defaultdict(set)
    for address, reader in readers.items():
        for audience in reader.audiences:
            for notice in reached[audience]:
                found[keys[notice["notice_id"]]].add(address)
    return dict(found)


def _compose_emails(session: Session, sweep_id: str, readers: dict[str, _Reader],
                    settings: Settings, now: datetime, report: ComposeReport) -> None:
    """The digests of ``readers``: each ranked from what its notices say of their items (no
    names), then only the items it shows in full loaded with their names and history. The
    office's digest after a first sweep of a million items ranks a million and loads fifty."""
    keys = {address: f"digest:{sweep_id}:{address}" for address in readers}
    done = set(session.exec(select(Message.key).where(col(Message.key).in_(keys.values()))))
    readers = {a: r for a, r in readers.items() if keys[a] not in done}
    if not readers:
        return
    reached = _notices_reaching(session, sweep_id, set().union(
        *(r.audiences for r in readers.values())))
    digests: dict[str, Digest | Exception] = {}
    for address, reader in readers.items():
        ranked = [n for audience in reader.audiences for n in reached[audience]]
        if not ranked:
            continue  # its items were deleted since the sweep (a plan re-imported)
        try:
            digests[address] = digest_of(_rankable(ranked), cap=settings.digest_item_cap)
        except Exception as exc:  # a notice whose context cannot be ranked: a dead letter
            digests[address] = exc
    del reached
    shown = {i["notice_id"] for digest in digests.values() if isinstance(digest, Digest)
             for i in digest.shown}
    notices = {saved_id(n): n for n in session.exec(select(Notice).where(
        col(Notice.id).in_(sorted(shown))))}
    sources = _sources(session, list(notices.values()), settings)
    links = ItemLinks.of(settings, now)
    for address, digest in digests.items():
        recipient, key = readers[address].recipient, keys[address]
        meta: dict[str, Any] = {"sweep": sweep_id}
        try:
            if isinstance(digest, Exception):
                raise digest
            meta["milestones"] = sorted(i["milestone_id"] for i in (*digest.shown, *digest.rest))
            with session.begin_nested():
                message_id = _queue_digest(session, settings, key, recipient, digest, notices,
                                           sources, links, now, meta)
        except Exception as exc:
            if not is_item_fault(exc):
                raise
            if _queue_dead(session, settings, key=key, channel=Channel.email,
                           address=address, recipient=recipient.name,
                           person_id=recipient.person_id, template="escalation_digest",
                           reason=_reason(exc), now=now, meta=meta) is not None:
                report.dead += 1
        else:
            if message_id is not None:  # else another composer got there first
                report.emails += 1


def _rankable(ranked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for notice in ranked:
        missing = [k for k in ("level", "repeat", "due_on") if notice[k] is None]
        if missing:
            raise ValueError(f"notice {notice['notice_id']} has no {', '.join(missing)}")
    return ranked


def _notices_reaching(session: Session, sweep_id: str, audiences: set[_Audience]
                      ) -> dict[_Audience, list[dict[str, Any]]]:
    """The sweep's notices, by the audiences among ``audiences`` they reach, as a digest ranks
    them (models/rules/digest.py): their items' ids, levels, due dates, lights and the codes
    a list filters by, read from their steps and JSON in SQL, one small dict per notice."""
    found: dict[_Audience, list[dict[str, Any]]] = defaultdict(list)
    context = col(Notice.context)
    for through_co in (False, True):
        units = sorted({unit for co, unit, _ in audiences if co is through_co})
        if not units:
            continue
        unit_of = col(MilestoneCoUnit.unit_id if through_co else Milestone.unit_id)
        query = (sa.select(Notice.id, Notice.milestone_id,  # type: ignore[call-overload]
                           Notice.roles, unit_of,
                           sa.func.coalesce(EscalationStep.level, context["level"].as_integer()),
                           sa.func.coalesce(EscalationStep.repeat,
                                            context["repeat"].as_integer()),
                           EscalationStep.due_on, context["due_on"].as_string(),
                           context["light"].as_string(), Plan.code, Unit.code)
                 .join(EscalationStep, col(EscalationStep.id) == Notice.escalation_id,
                       isouter=True)
                 .join(Milestone, col(Milestone.id) == Notice.milestone_id)
                 .join(Project, col(Project.id) == Milestone.project_id)
                 .join(Plan, col(Plan.id) == Project.plan_id)
                 .join(Unit, col(Unit.id) == Milestone.unit_id))
        if through_co:
            query = query.join(MilestoneCoUnit,
                               col(MilestoneCoUnit.milestone_id) == Notice.milestone_id)
        codes: dict[str, str] = {}  # one string per code, not one per row
        for (notice_id, milestone_id, roles, unit_id, level, repeat, step_due_on, due_on,
             light, plan_code, unit_code) in session.execute(query.where(
                Notice.sweep_id == sweep_id, unit_of.in_(units)).order_by(col(Notice.id))):
            audience = (through_co, unit_id, roles)
            if audience in audiences:
                found[audience].append({
                    "notice_id": notice_id, "milestone_id": milestone_id, "level": level,
                    "repeat": repeat, "light": light,
                    "due_on": step_due_on.isoformat() if step_due_on else due_on,
                    "plan_code": codes.setdefault(plan_code, plan_code),
                    "unit_code": codes.setdefault(unit_code, unit_code)})
    return found


def _queue_digest(session: Session, settings: Settings, key: str, recipient: Recipient,
                  digest: Digest, notices: dict[int, Notice], sources: _Sources,
                  links: ItemLinks, now: datetime, meta: dict[str, Any]) -> int | None:
    """Each item once, the first ``digest_item_cap`` in full (models/rules/digest.py)."""
    person_id = recipient.person_id
    shown = [notices[i["notice_id"]] for i in digest.shown]
    entries = [_item(n, sources) | {"link": links.to(person_id, n.milestone_id)} for n in shown]
    more = None
    if digest.rest:
        more = {"count": len(digest.rest), "link": links.list_of(shared_filters(digest.rest))}
    attached = _orders_to_sign(session, settings, person_id, entries, links, sources)
    context = {"recipient": recipient.name, "as_of": sources.said[saved_id(shown[0])]["as_of"],
               "office": settings.office_name, "items": entries, "total": digest.total,
               "more": more}
    receipt = next((i["receipt_link"] for i in entries if i.get("receipt_link")), None)
    return _compose(session, settings, key=key, channel=Channel.email,
                    address=recipient.email, recipient=recipient.name, person_id=person_id,
                    template="escalation_digest",
                    context=context, not_before=now,
                    meta=meta | ({"receipt_link": receipt} if receipt else {}),
                    attachments=attached)


def _orders_to_sign(session: Session, settings: Settings, person_id: int | None,
                    entries: list[dict[str, Any]], links: ItemLinks,
                    sources: _Sources) -> list[tuple[str, str, bytes]]:
    """For the 督办单 among ``entries`` that this person's unit signs for (签收) and has
    not yet: a 签收 link on its entry, and the order's PDF attached (the first
    ``ORDER_ATTACHMENTS``; the others are a tap away on the item page). Each PDF is rendered
    once per transaction of addresses, however many of the unit's people receive it."""
    numbers = {i["order"] for i in entries if i.get("order")}
    person = session.get(Person, person_id) if person_id is not None and numbers else None
    if person is None:
        return []
    attached: list[tuple[str, str, bytes]] = []
    for order in session.exec(select(SupervisionOrder).where(
            col(SupervisionOrder.number).in_(sorted(numbers)),
            col(SupervisionOrder.received_at).is_(None)).order_by(col(SupervisionOrder.id))):
        if person.unit_id != order.unit_id or not may_sign(person, order.unit_id):
            continue  # the office may sign on a unit's behalf, but is not asked to by mail
        for entry in entries:
            if entry.get("order") == order.number:
                entry["receipt_link"] = links.receipt(saved_id(person), saved_id(order))
        if len(attached) < ORDER_ATTACHMENTS:
            if order.id not in sources.order_pdfs:
                sources.order_pdfs[saved_id(order)] = order_pdf(order_context(
                    session, order, settings))
            attached.append((f"{order.number}.pdf", "application/pdf",
                             sources.order_pdfs[saved_id(order)]))
    return attached


def _compose_posts(session: Session, sweep_id: str, channels: Channels, settings: Settings,
                   now: datetime, report: ComposeReport) -> None:
    """One post per target: the sweep's most severe items about its units or to its roles."""
    zone = ZoneInfo(settings.timezone)
    for target in channels.webhooks:
        key = f"webhook:{sweep_id}:{target.name}"
        try:
            with session.begin_nested():
                queued = _compose_post(session, sweep_id, target.name, target.units,
                                       target.roles, settings, now,
                                       next_send_time(now, channels.quiet_hours, zone))
        except Exception as exc:
            if not is_item_fault(exc):
                raise
            if _queue_dead(session, settings, key=key, channel=Channel.webhook,
                           address=target.name, recipient=target.name, person_id=None,
                           template="webhook", reason=_reason(exc), now=now,
                           meta={"sweep": sweep_id}) is not None:
                report.dead += 1
            continue
        if queued:
            report.posts += 1


def _compose_post(session: Session, sweep_id: str, target: str, units: Sequence[str],
                  roles: Sequence[str], settings: Settings, now: datetime,
                  not_before: datetime) -> int | None:
    """One post: the sweep's most severe items about the target's units or to its roles."""
    told = sa.literal(ROLE_SEPARATOR) + col(Notice.roles) + ROLE_SEPARATOR
    matching = (select(Notice, Unit.code)
                .join(Milestone, col(Milestone.id) == Notice.milestone_id)
                .join(Unit, col(Unit.id) == Milestone.unit_id)
                .where(Notice.sweep_id == sweep_id,
                       sa.or_(col(Unit.code).in_(units),
                              *(told.contains(f"{ROLE_SEPARATOR}{role}{ROLE_SEPARATOR}",
                                              autoescape=True) for role in roles))))
    found = matching.subquery()
    total = session.exec(select(sa.func.count(sa.distinct(found.c.milestone_id)))).one()
    if not total:
        return None
    notices = [n for n, _ in session.exec(matching.order_by(col(Notice.id))
                                          .limit(POST_ITEMS * 10)).all()]
    sources = _sources(session, notices, settings)
    chosen: dict[int | None, dict[str, Any]] = {}
    for notice in notices:
        if notice.milestone_id not in chosen:
            chosen[notice.milestone_id] = _item(notice, sources)
    shown = sorted(chosen.values(), key=lambda i: -i["level"])[:POST_ITEMS]
    title = f"督办通知：{total}项事项（{sources.said[saved_id(notices[0])]['as_of']}）"
    lines = [f"### {escape_markdown(title)}"] + [
        f"- **{escape_markdown(i['level_name'])}** {escape_markdown(i['title'])}"
        f"（{escape_markdown(i['unit'])}，到期 {i['due_on']}"
        + (f"，逾期{i['overdue_workdays']}个工作日" if i["overdue_workdays"] else "") + "）"
        for i in shown]
    if total > len(shown):
        lines.append(f"- ……等共{total}项，详见督办系统")
    return _queue_post(session, settings, sweep_id, target, title, "\n".join(lines),
                       not_before)


class _Names(NamedTuple):
    """An item as its rows name it now."""

    title: str
    commitment: str
    project: str
    plan: str
    plan_code: str
    unit: str
    unit_code: str


@dataclass
class _Sources:
    """What the items of a set of notices are made from, loaded in two queries."""

    names: dict[int | None, _Names]
    said: dict[int, dict[str, Any]]  # what each notice says, with its step's facts, by its id
    history: dict[int | None, list[dict[str, str]]]  # by the notices' milestone_id
    order_pdfs: dict[int, bytes] = field(default_factory=dict)  # rendered once, by order id


def _sources(session: Session, notices: Sequence[Notice],
             settings: Settings) -> _Sources:
    """Names and recent history of the notices' milestones. A notice whose context is broken
    must not fail this for the others: its own message fails in `_item`."""
    ids = {n.milestone_id for n in notices}
    # What select() builds for more than the four entities it is typed for.
    rows: Sequence[Any] = session.exec(
        Select(col(Milestone.id), col(Milestone.title), col(Milestone.commitment),
               col(Project.name), col(Plan.name), col(Plan.code), col(Unit.name),
               col(Unit.code))
        .join(Project, col(Project.id) == Milestone.project_id)
        .join(Plan, col(Plan.id) == Project.plan_id)
        .join(Unit, col(Unit.id) == Milestone.unit_id)
        .where(col(Milestone.id).in_(ids))).all()
    names = {m_id: _Names(*named) for m_id, *named in rows}
    said = _said(session, notices)
    history: dict[int | None, list[dict[str, str]]] = defaultdict(list)
    escalated = {n.milestone_id for n in notices
                 if isinstance(said[saved_id(n)].get("level"), int)
                 and said[saved_id(n)]["level"] >= 2}
    if escalated:
        for event in history_of(session, escalated, kinds=HISTORY_KINDS):
            history[event.milestone_id].append({
                "on": event.at.astimezone(ZoneInfo(settings.timezone)).date().isoformat(),
                "what": HISTORY_WORDS.get(event.kind, event.kind) +
                        (f"：{event.reason}" if event.reason and event.reason != "sweep" else ""),
                "who": "系统" if event.actor.startswith("system:") else event.actor})
    return _Sources(names, said, history)


def _said(session: Session, notices: Sequence[Notice]) -> dict[int, dict[str, Any]]:
    """What each notice says: its step's facts (due date in force, level, repeat, reason,
    the sweep's day), which a step's notice does not copy, and its own (light, days overdue,
    the level's name, a catch-up's skipped levels, the 督办单's 文号). A 逾期未签收 or 催报
    has no step and says everything itself."""
    step_ids = sorted({n.escalation_id for n in notices if n.escalation_id is not None})
    steps = {saved_id(s): s for s in session.exec(select(EscalationStep).where(
        col(EscalationStep.id).in_(step_ids)))} if step_ids else {}
    said = {}
    for notice in notices:
        step = steps.get(notice.escalation_id) if notice.escalation_id is not None else None
        facts = {"due_on": step.due_on.isoformat(), "level": step.level, "repeat": step.repeat,
                 "reason": step.reason, "as_of": step.as_of.isoformat()} if step else {}
        said[saved_id(notice)] = facts | (notice.context if isinstance(notice.context, dict)
                                          else {})
    return said


def _item(notice: Notice, sources: _Sources) -> dict[str, Any]:
    """The template's item for a notice (the link depends on who receives it, so the email
    adds it)."""
    c = sources.said[saved_id(notice)]
    named = sources.names[notice.milestone_id]
    return {"milestone_id": notice.milestone_id, "plan_code": named.plan_code,
            "light": c.get("light"),  # not in notices queued before it was recorded
            "kind": notice.kind, "level": c["level"], "level_name": c["level_name"],
            "reason": c["reason"], "repeat": c["repeat"], "title": named.title,
            "project": named.project, "plan": named.plan, "unit": named.unit,
            "unit_code": named.unit_code,
            "due_on": c["due_on"], "overdue_workdays": c["overdue_workdays"],
            "commitment": named.commitment,
            "order": c.get("order"),            # the 督办单's 文号, when the step issued one
            "skipped": c.get("skipped", []),    # a catch-up step's levels, by name
            "history": sources.history[notice.milestone_id][-10:]}


def queue_email(*, session: Session, settings: Settings, key: str, address: str,
                recipient: str, person_id: int | None, template: str,
                context: dict[str, Any], now: datetime,
                meta: dict[str, Any] | None = None) -> int | None:
    """Queue one email in the caller's transaction (a confirmation, a bulletin). One that
    cannot be composed is queued as a dead letter with the reason instead, so that the
    caller's transaction (an action, a bulletin's other readers) still lands."""
    try:
        with session.begin_nested():
            return _compose(session, settings, key=key, channel=Channel.email,
                            address=address, recipient=recipient, person_id=person_id,
                            template=template, context=context, not_before=now,
                            meta=meta or {})
    except Exception as exc:
        if not is_item_fault(exc):
            raise
        return _queue_dead(session, settings, key=key, channel=Channel.email, address=address,
                           recipient=recipient, person_id=person_id, template=template,
                           reason=_reason(exc), now=now, meta=meta or {})


def queue_failed(*, session: Session, settings: Settings, key: str, address: str,
                 recipient: str, person_id: int | None, template: str, error: Exception,
                 now: datetime, meta: dict[str, Any] | None = None) -> int | None:
    """Record, as a dead letter with its reason, an email whose context the caller could not
    even build (a confirmation about an event whose data is broken)."""
    return _queue_dead(session, settings, key=key, channel=Channel.email, address=address,
                       recipient=recipient, person_id=person_id, template=template,
                       reason=_reason(error), now=now, meta=meta or {})


def queue_built(*, session: Session, key: str, address: str, recipient: str,
                person_id: int | None, template: str, rendered: Rendered, raw: bytes,
                message_id: str, now: datetime, meta: dict[str, Any]) -> int | None:
    """Queue an email built by the caller (a bulletin, with its chart and attachments) in the
    caller's transaction; None if the key was already queued."""
    return _insert(session, {
        "key": key, "channel": Channel.email, "address": address, "recipient": recipient,
        "person_id": person_id, "template": template, "subject": rendered.subject,
        "body_text": rendered.text, "body_html": rendered.html, "raw": raw,
        "message_id": message_id, "status": "queued", "attempts": 0, "next_attempt_at": now,
        "meta": meta, "created_at": now})


def _compose(session: Session, settings: Settings, *, key: str, channel: Channel,
             address: str, recipient: str, person_id: int | None, template: str,
             context: dict[str, Any], not_before: datetime, meta: dict[str, Any],
             attachments: list[tuple[str, str, bytes]] | None = None) -> int | None:
    """Render and insert; return the new message's id, or None if the key was already queued.
    An e-mail to a person who reads DingTalk or WeCom goes there instead (`routed`)."""
    rendered = render(template, context, locale=settings.locale)
    message_id = message_id_for(key, settings.mail_from.email.rsplit("@", 1)[-1])
    raw = build_email(rendered=rendered, sender_name=settings.mail_from.name,
                      sender_address=settings.mail_from.email, to_name=recipient,
                      to_address=address, message_id=message_id, date=not_before,
                      attachments=attachments).as_bytes()
    # What a card's button opens, should it go to DingTalk or WeCom: the item's signed link,
    # or a digest's first (most urgent) item's.
    link = context.get("link") or next(
        (item["link"] for item in context.get("items", []) if item.get("link")), None)
    if link:
        meta = meta | {"link": link}
    return _insert(session, routed(session, {
        "key": key, "channel": channel, "address": address, "recipient": recipient,
        "person_id": person_id, "template": template, "subject": rendered.subject,
        "body_text": rendered.text, "body_html": rendered.html, "raw": raw,
        "message_id": message_id, "status": "queued", "attempts": 0,
        "next_attempt_at": not_before, "meta": meta, "created_at": not_before}))


def _queue_dead(session: Session, settings: Settings, *, key: str, channel: Channel,
                address: str, recipient: str, person_id: int | None, template: str,
                reason: str, now: datetime, meta: dict[str, Any]) -> int | None:
    """Store a message that could not be composed as a dead letter, with nothing to send:
    the office sees it and why (`duban outbox list --failed`). In a savepoint: if even this
    row is refused, the failure is only logged and the others go on. None when the key was
    stored already, or nothing could be."""
    log.error("message %s to %r could not be composed: %s", key, address, reason)
    try:
        with session.begin_nested():
            message_id = _insert(session, {
                "key": key[:300], "channel": channel, "address": address[:320],
                "recipient": recipient[:200], "person_id": person_id, "template": template,
                "subject": f"（未能生成：{template}）", "body_text": "", "body_html": "",
                "raw": b"", "message_id": "", "status": MessageStatus.dead, "attempts": 0,
                "next_attempt_at": now, "last_error": reason[:2000], "meta": meta,
                "created_at": now})
            if message_id is not None:
                record(session, EventKind.message_dead, at=now, actor="system:compose",
                       reason=reason[:2000], person_id=person_id,
                       data={"message_id": message_id, "address": address[:320],
                             "attempts": 0})
            return message_id
    except Exception as exc:
        if not is_item_fault(exc):
            raise
        log.error("dead letter %s could not be stored either: %s", key, exc)
        return None


def _reason(exc: BaseException) -> str:
    """A dead letter's reason: the exception's type and text, never a traceback."""
    return f"composition failed: {type(exc).__name__}: {exc}"[:2000]


def _queue_post(session: Session, settings: Settings, sweep_id: str, target: str, title: str,
                markdown: str, not_before: datetime) -> int | None:
    key = f"webhook:{sweep_id}:{target}"
    return _insert(session, {
        "key": key, "channel": Channel.webhook, "address": target, "recipient": target,
        "person_id": None, "template": "webhook", "subject": title, "body_text": markdown,
        "body_html": "", "raw": b"", "message_id": message_id_for(key, "webhook"),
        "status": "queued",
        "attempts": 0, "next_attempt_at": not_before, "meta": {"sweep": sweep_id},
        "created_at": not_before})


def _insert(session: Session, row: dict[str, Any]) -> int | None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = table_of(Message)
    return session.execute(dialect.insert(table).values(**row)
                           .on_conflict_do_nothing(index_elements=["key"])
                           .returning(table.c.id)).scalar_one_or_none()
