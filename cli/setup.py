"""`duban init` and `duban run`: bring up the embedded default."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from cli import context
from cli.output import console, fail

SEED_PLANS = Path(__file__).resolve().parent.parent / "config" / "plans"


def init() -> None:
    """Create or upgrade the database; import the seed plans if no plan is loaded; make the
    first office account when there is none and print its one-time sign-in link."""
    context.make_data_dir()
    _init()
    _offer_first_sign_in()


def demo() -> None:
    """Add demo people (【演示】, example.org addresses) to every unit, for trying Duban out:
    their digests land in data/outbox; prints a one-time sign-in link for one demo owner."""
    from models.rules.item_links import START_PAGE
    from models.store.first_hour import add_demo_people, busiest_owner
    from notifications.links import ItemLinks

    context.require_database()
    now = context.now()
    with context.session() as db:
        people = add_demo_people(session=db, actor=context.actor(), now=now)
        db.commit()
        rows = [(p.id, p.name, p.email, p.role.value) for p in people]
        owner = busiest_owner(db, people)
        link = ItemLinks.of(context.settings(), now).to(owner.id, START_PAGE)
    for person_id, name, email, role in rows:
        console.print(f"{person_id}\t{email}\t{role}\t{name}", highlight=False)
    console.print(f"已添加 {len(rows)} 位演示人员（example.org 地址，邮件只写入发件箱文件夹）。",
                  highlight=False)
    console.print(f"以演示负责人 {owner.email} 登录（一次有效）：{link}", highlight=False)


def _offer_first_sign_in() -> None:
    """While the first office account has no password, a fresh one-time link to sign it in."""
    from models.rules.item_links import START_PAGE
    from models.store.first_hour import first_office
    from notifications.links import ItemLinks

    now = context.now()
    with context.session() as db:
        person = first_office(session=db, actor="system:init", now=now)
        db.commit()
        if person is None:
            return
        link = ItemLinks.of(context.settings(), now).to(person.id, START_PAGE)
        email = person.email
    console.print(f"首个督办办公室账号 {email}：用此链接登录（一次有效，14 天内）：{link}\n"
                  "登录后在“人员”页为自己设置密码、添加同事；或用 duban people add / password。",
                  highlight=False)


def _init() -> None:
    from sqlmodel import select

    from cli.plans import describe_changes, import_files
    from models.store.database import migrate
    from models.tables.plan import Plan

    migrate(context.engine())
    console.print(f"数据库已就绪：{context.settings().database}", highlight=False)
    with context.session() as db:
        has_plans = db.exec(select(Plan.id)).first() is not None
    if not has_plans:
        for outcome in import_files(sorted(SEED_PLANS.glob("*.yaml"))):
            console.print(f"已导入 {outcome.plan_code}：{describe_changes(outcome.counts)}",
                          highlight=False)


def run(once: Annotated[bool, typer.Option(
        "--once", help="run the scheduled sweep (the Prefect flow) once now and exit")] = False,
        web: Annotated[bool, typer.Option(
            "--web/--no-web", help="also serve the web app on web_host:web_port")] = True,
        ) -> None:
    """Run the embedded service: initialise, then sweep on schedule and serve the web app
    until Ctrl+C or SIGTERM.

    The sweep runs on `schedule.sweep` of config/policy.yaml, in the configured time zone; a
    sweep missed while Duban was down runs once when it comes back the same day. Only one
    `duban run` may schedule per database: a second one exits with code 3, before it takes the
    web port. The web app runs in a thread of this process, on the same database and key: one
    service to start, and the links in its emails open in its own web app.
    """
    from flows.scheduler import SchedulerBusy, hold_scheduler_lock

    context.make_data_dir()
    settings = context.settings()
    # The lock first: a second `duban run` leaves before it migrates, imports or prints.
    try:
        with hold_scheduler_lock(settings.database, settings.data_dir):
            _run_holding_the_lock(once=once, web=web)
    except SchedulerBusy as exc:
        fail(str(exc), code=3)


def _run_holding_the_lock(*, once: bool, web: bool) -> None:
    from cli.plans import list_

    _init()
    list_()
    # After init: Alembic's start-up chatter stays out of the log.
    _log_in_local_time(context.settings().zone)
    if once:
        _sweep_once()
        return
    from cli.web import WebNotStarted
    from flows.scheduler import serve

    settings = context.settings()
    cron = context.rules().policies.default.schedule.sweep

    def announce(when: datetime | None) -> None:
        schedule = f"{cron.day_of_week} {cron.hour:02d}:{cron.minute:02d}，{settings.timezone}"
        shown = f"{when:%Y-%m-%d %H:%M}" if when else "无"
        console.print(f"调度器已启动，下次巡检：{shown}（{schedule}）。按 Ctrl+C 停止。",
                      highlight=False)
        _offer_first_sign_in()  # the last line of start-up, below the web app's address

    try:
        serve(database_url=settings.database, data_dir=settings.data_dir,
              bulletin_cron=context.rules().policies.default.schedule.bulletin,
              timezone=settings.timezone, sweep_cron=cron, announce=announce,
              alongside=_web() if web else None, locked=True)
    except WebNotStarted as exc:
        fail(str(exc))
    console.print("调度器已停止。", highlight=False)


def _log_in_local_time(zone: ZoneInfo) -> None:
    """INFO to stderr, stamped in the office's time zone (a log read in 北京时间 need not be
    converted); libraries that narrate at INFO are held to warnings."""
    import logging

    class LocalTime(logging.Formatter):
        def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
            return datetime.fromtimestamp(record.created, zone).isoformat(" ", "seconds")

    handler = logging.StreamHandler()
    handler.setFormatter(LocalTime("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    # Prefect's client logs every request; WeasyPrint and fontTools every font and page.
    for noisy in ("httpx", "weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def _web() -> Iterator[None]:
    from cli.web import served, web_app

    settings = context.settings()
    with served(web_app(), host=settings.web_host, port=settings.web_port):
        console.print(f"督办网页：http://{settings.web_host}:{settings.web_port}/",
                      highlight=False)
        yield


def _sweep_once() -> None:
    from flows.scheduled_jobs import scheduled_sweep

    try:
        scheduled_sweep()
    except Exception as exc:
        fail(f"巡检失败：{exc}")
