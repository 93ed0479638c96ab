"""Generating, storing and sending a bulletin.

``generate`` computes the figures from the history as it stood at the end of the period, makes
every output, and stores them in the bulletin's row (replacing what an earlier generation of the
same scope, period and edition stored). ``send`` queues its emails in the outbox, in the same
transaction, under keys made of the bulletin's id, its send number and the address: generating
and sending again queues nothing new; ``resend`` starts a new send number, so everyone gets it
once more.

Who receives what:
- the internal edition goes to every active office and leader account, with the PDF and the
  workbook attached;
- the public edition (晾晒) goes to each unit on it (its heads, or its contact mailbox when it has
  a real one), as that unit's own bulletin: the whole ranking, its own items.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from config.settings import Settings
from models.rules.bulletin.editions import Edition
from models.rules.bulletin.figures import Figures, compute
from models.rules.bulletin.issues import Issued, issue_of
from models.rules.bulletin.periods import Period, period_end
from models.rules.rulebook import Rules
from models.store.bulletin_history import load_history
from models.store.events import record
from models.tables.bulletin_record import BulletinRecord
from models.tables.event_kinds import EventKind
from models.tables.message import Message
from models.tables.person import Person, Role
from models.tables.unit import Unit
from notifications.bulletin.chart import progress_chart
from notifications.bulletin.page import (
    bulletin_email,
    bulletin_html,
    bulletin_subject,
    bulletin_text,
)
from notifications.bulletin.pdf import bulletin_pdf
from notifications.bulletin.workbook import bulletin_workbook
from notifications.compose import queue_built
from notifications.email_message import build_email, message_id_for
from notifications.render import Rendered

CHART_CID = "bulletin-chart"
PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def generate(*, session: Session, rules: Rules, settings: Settings, plan: str | None,
             period: Period, edition: Edition, actor: str, now: datetime
             ) -> tuple[BulletinRecord, bool]:
    """Compute, render and store; the caller commits. Returns the row and whether it replaced
    an earlier generation. Raises UnknownPlan for a plan code that names nothing."""
    history = load_history(session=session, rules=rules, plan=plan,
                           until=period_end(period, rules))
    figures = compute(history, period, rules, edition)
    stored = session.exec(select(BulletinRecord).where(
        BulletinRecord.scope == figures.scope, BulletinRecord.period_first == period.first,
        BulletinRecord.period_last == period.last, BulletinRecord.edition == edition)).first()
    row = stored or BulletinRecord(  # type: ignore[call-arg]  # its content is set below
                                   scope=figures.scope, period_first=period.first,
                                   period_last=period.last, edition=edition,
                                   period_kind=period.kind, generated_by=actor)
    figures = _issued(session, figures, stored, settings)
    row.issue_year, row.issue_number = figures.issue_year, figures.issue_number
    chart = progress_chart(figures)
    same = stored is not None and stored.figures == figures.to_json()
    row.scope_name, row.period_kind, row.figures = (figures.scope_name, period.kind,
                                                    figures.to_json())
    row.subject = bulletin_subject(figures, locale=settings.locale)
    row.html = bulletin_html(figures, chart_src=f"cid:{CHART_CID}", link=None,
                             locale=settings.locale)
    row.text = bulletin_text(figures, link=None, locale=settings.locale)
    row.chart_png, row.xlsx = chart, bulletin_workbook(figures)
    row.pdf = bulletin_pdf(figures, chart_png=chart)
    row.generated_at, row.generated_by = now, actor
    session.add(row)
    session.flush()
    kind = EventKind.bulletin_regenerated if stored else EventKind.bulletin_generated
    record(session, kind, at=now, actor=actor,
           data={"bulletin": row.id, "scope": row.scope,
                 "period": [period.first.isoformat(), period.last.isoformat()],
                 "edition": edition.value, "same_figures": same})
    return row, stored is not None


def _issued(session: Session, figures: Figures, stored: BulletinRecord | None,
            settings: Settings) -> Figures:
    """The figures with their 期号 (models/rules/bulletin/issues.py) and 发文单位: a stored
    bulletin keeps both; a new one takes the next number of its scope's year and the issuer
    the settings name now (``bulletin_issuer``, else ``office_name``)."""
    rows = session.exec(select(col(BulletinRecord.period_first), col(BulletinRecord.period_last),
                               col(BulletinRecord.issue_year), col(BulletinRecord.issue_number))
                        .where(BulletinRecord.scope == figures.scope)).all()
    year, number = issue_of(figures.period.first, figures.period.last,
                            [Issued(*r) for r in rows])
    issuer = (stored.figures.get("issuer") if stored is not None else None) or (
        settings.bulletin_issuer or settings.office_name)
    return replace(figures, issue_year=year, issue_number=number, issuer=issuer)


@dataclass(frozen=True)
class Recipient:
    name: str
    address: str
    person_id: int | None
    unit_code: str | None  # a unit's own bulletin


def recipients(session: Session, figures: Figures) -> list[Recipient]:
    if figures.edition is Edition.internal:
        people = session.exec(select(Person).where(
            col(Person.role).in_([Role.office, Role.leader]), col(Person.active).is_(True))
            .order_by(col(Person.id))).all()
        return [Recipient(p.name, p.email, p.id, None) for p in people]
    codes = [u.unit_code for u in figures.units]
    units = {u.code: u for u in session.exec(select(Unit).where(col(Unit.code).in_(codes)))}
    heads: dict[int | None, list[Person]] = {}
    for person in session.exec(select(Person).where(
            col(Person.heads_unit).is_(True), col(Person.active).is_(True),
            col(Person.unit_id).in_([u.id for u in units.values()])).order_by(col(Person.id))):
        heads.setdefault(person.unit_id, []).append(person)
    out = []
    for code in codes:
        unit = units[code]
        for person in heads.get(unit.id, []):
            out.append(Recipient(person.name, person.email, person.id, code))
        if not unit.contact_placeholder and unit.contact_email not in {
                p.email for p in heads.get(unit.id, [])}:
            out.append(Recipient(unit.contact_name or unit.name, unit.contact_email, None, code))
    return out


def send(*, session: Session, settings: Settings, bulletin: BulletinRecord, resend: bool,
         actor: str, now: datetime) -> int:
    """Queue the bulletin's emails; return how many were newly queued."""
    if resend:
        bulletin.sends += 1
        session.add(bulletin)
    figures = Figures.from_json(bulletin.figures)
    link = f"{str(settings.base_url).rstrip('/')}/bulletins/{bulletin.id}"
    attachments = [] if figures.edition is Edition.public else [
        (f"{bulletin.subject}.pdf", PDF_TYPE, bulletin.pdf),
        (f"{bulletin.subject}.xlsx", XLSX_TYPE, bulletin.xlsx)]
    domain = settings.mail_from.email.rsplit("@", 1)[-1]
    prefix = f"bulletin:{bulletin.id}:{bulletin.sends}:"
    already = set(session.exec(select(Message.key).where(col(Message.key).startswith(prefix))))
    queued = 0
    for who in recipients(session, figures):
        key = prefix + who.address
        if key in already:  # sent before: rendering it again would only be thrown away
            continue
        if who.unit_code is None:
            rendered = Rendered(bulletin.subject, bulletin.text, bulletin.html)
        else:
            rendered = bulletin_email(figures.for_unit(who.unit_code),
                                      chart_src=f"cid:{CHART_CID}",
                                      link=f"{link}?unit={who.unit_code}",
                                      locale=settings.locale)
        message_id = message_id_for(key, domain)
        raw = build_email(rendered=rendered, sender_name=settings.mail_from.name,
                          sender_address=settings.mail_from.email, to_name=who.name,
                          to_address=who.address, message_id=message_id, date=now,
                          images={CHART_CID: bulletin.chart_png},
                          attachments=attachments).as_bytes()
        if queue_built(session=session, key=key, address=who.address, recipient=who.name,
                       person_id=who.person_id, template="bulletin", rendered=rendered,
                       raw=raw, message_id=message_id, now=now,
                       meta={"bulletin": bulletin.id, "unit": who.unit_code}) is not None:
            queued += 1
    record(session, EventKind.bulletin_sent, at=now, actor=actor,
           data={"bulletin": bulletin.id, "send": bulletin.sends, "queued": queued,
                 "resend": resend})
    return queued
