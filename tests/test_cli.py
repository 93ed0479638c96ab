"""The office's command line, run in-process against each database."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import context
from cli.main import app
from models.store.first_hour import FIRST_OFFICE_EMAIL
from services.runtime import build
from tests.conftest import SEED_PLANS, Duban, snapshot


def test_init_imports_the_seed_plans_once(duban: Duban) -> None:
    first = duban("init")
    assert first.exit_code == 0, first.output
    assert first.output.count("已导入") == len(SEED_PLANS)
    again = duban("init")
    assert again.exit_code == 0 and "已导入" not in again.output
    listed = json.loads(duban("plans", "list", "--json").output)
    assert {p["code"] for p in listed} == {path.stem for path in SEED_PLANS}


def test_plans_show_json_has_projects_milestones_and_indicators(duban: Duban) -> None:
    duban("init")
    shown = duban("plans", "show", "xihu-2016-2020", "--json")
    plan = json.loads(shown.output)
    welfare = next(p for p in plan["projects"] if p["name"] == "区社会福利中心二期工程")
    assert [(m["due_on"], m["title"]) for m in welfare["milestones"]] == [
        ("2016-12-31", "项目前期"), ("2017-12-31", "完成立项"), ("2018-12-31", "开工建设"),
        ("2020-12-31", "建成运营")]
    assert welfare["unit"] == {"code": "xihu-mzj", "name": "杭州市西湖区民政局"}
    beds = next(i for i in plan["indicators"] if i["name"] == "每百名老人机构养老床位数")
    assert beds["baseline"] == {"year": 2015, "value": 4.22, "qualifier": None, "text": None}
    assert [t["value"] for t in beds["targets"]] == [4.25, 4.3, 4.35, 4.5]
    assert beds["commitment"] == "binding"


def test_an_unknown_plan_is_named(duban: Duban) -> None:
    duban("init")
    result = duban("plans", "show", "nowhere-2030")
    assert result.exit_code == 1
    assert "没有代码为 'nowhere-2030' 的规划" in result.output


def test_an_invalid_plan_file_changes_nothing(duban: Duban, database_url: str,
                                              tmp_path: Path) -> None:
    duban("init")
    engine = sa.create_engine(database_url)
    before = snapshot(engine)
    broken = tmp_path / "broken.yaml"
    broken.write_text(SEED_PLANS[0].read_text(encoding="utf-8").replace(
        "    unit: ", "    unit: no-such-", 1), encoding="utf-8")
    result = duban("plans", "import", str(SEED_PLANS[1]), str(broken))
    assert result.exit_code == 2
    assert f"{broken}:" in result.output and "is not declared under `units:`" in result.output
    assert "数据库未作任何改动" in result.output
    assert snapshot(engine) == before
    engine.dispose()


def test_people_import_is_all_or_nothing_and_names_the_bad_line(duban: Duban, database_url: str,
                                                                tmp_path: Path) -> None:
    duban("init")
    engine = sa.create_engine(database_url)
    before = snapshot(engine)
    people = tmp_path / "people.csv"
    people.write_text("姓名,邮箱,角色,单位,电话,单位负责人\n"
                      "王芳,wang.fang@example.gov.cn,项目负责人,xihu-mzj,0571-1234,是\n"
                      "李强,li.qiang@example,督查室,,,\n", encoding="utf-8-sig")
    bad = duban("people", "import", str(people))
    assert bad.exit_code == 2
    assert f"{people}:3: email:" in bad.output
    assert snapshot(engine) == before

    people.write_text(people.read_text(encoding="utf-8-sig").replace(
        "li.qiang@example,", "li.qiang@example.gov.cn,"), encoding="utf-8")
    good = duban("people", "import", str(people))
    assert good.exit_code == 0, good.output
    listed = json.loads(duban("people", "list", "--json").output)
    assert {(p["name"], p["role"], p["unit"], p["heads_unit"]) for p in listed
            if p["email"] != FIRST_OFFICE_EMAIL} == {  # init's first account aside
        ("王芳", "owner", "xihu-mzj", True), ("李强", "office", None, False)}
    engine.dispose()


def test_people_add_refuses_an_unknown_unit(duban: Duban) -> None:
    duban("init")
    result = duban("people", "add", "--name", "张伟", "--email", "zhang@example.gov.cn",
                   "--role", "owner", "--unit", "mars-base")
    assert result.exit_code == 2
    assert "unknown unit 'mars-base'" in result.output


def test_units_start_with_placeholder_contacts_the_office_replaces(duban: Duban) -> None:
    duban("init")
    units = {u["code"]: u for u in json.loads(duban("units", "list", "--json").output)}
    assert units["xihu-mzj"]["contact_placeholder"] is True
    assert units["xihu-mzj"]["contact_email"].endswith(".invalid")
    result = duban("units", "set-contact", "xihu-mzj", "--name", "陈静",
                   "--email", "chen.jing@example.gov.cn")
    assert result.exit_code == 0, result.output
    units = {u["code"]: u for u in json.loads(duban("units", "list", "--json").output)}
    assert (units["xihu-mzj"]["contact_email"], units["xihu-mzj"]["contact_placeholder"]) == (
        "chen.jing@example.gov.cn", False)
    # A re-import does not bring the placeholder back.
    duban("plans", "import", *map(str, SEED_PLANS))
    units = {u["code"]: u for u in json.loads(duban("units", "list", "--json").output)}
    assert units["xihu-mzj"]["contact_placeholder"] is False


def test_a_bad_setting_stops_start_up_naming_it(duban: Duban,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_TIMEZONE", "Asia/Shanghia")
    result = duban("plans", "list")
    assert result.exit_code == 2
    assert "DUBAN_TIMEZONE" in result.output
    assert "unknown time zone 'Asia/Shanghia'" in result.output


def test_commands_refuse_an_uninitialised_database(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DUBAN_DATABASE_URL", raising=False)
    context.runtime.cache_clear()
    result = CliRunner().invoke(app, ["plans", "list"])
    assert result.exit_code == 1 and "duban init" in result.output


def test_status_sweep_and_office_actions_from_the_command_line(duban: Duban) -> None:
    duban("init")
    before = json.loads(duban("status", "--plan", "xihu-2016-2020", "--as-of", "2017-01-05",
                              "--json").output)
    lights = {m["title"]: m["light"] for m in before["milestones"]}
    assert lights["项目前期"] == "red" and lights["完成立项"] == "green"
    assert before["provisional"] is False

    preview = json.loads(duban("sweep", "--as-of", "2017-01-05", "--dry-run", "--json").output)
    assert preview["dry_run"] is True and preview["escalated"] > 0
    assert json.loads(duban("sweep", "--as-of", "2017-01-05", "--dry-run", "--json").output)[
        "escalated"] == preview["escalated"]  # a preview keeps nothing

    done = json.loads(duban("sweep", "--as-of", "2017-01-05", "--json").output)
    assert done["escalated"] == preview["escalated"]
    item = next(e for e in done["escalations"] if e["title"] == "项目前期")
    acked = json.loads(duban("ack", str(item["milestone_id"]), "--reason", "已电话督促",
                             "--as-of", "2017-01-06", "--json").output)
    assert acked["acknowledged_level"] == acked["level"] >= 1
    snoozed = duban("snooze", str(item["milestone_id"]), "--until", "2017/02/01",
                    "--reason", "待审批")
    assert snoozed.exit_code == 2 and "--until: '2017/02/01' is not a date" in snoozed.output

    again = json.loads(duban("sweep", "--as-of", "2017-01-05", "--json").output)
    assert again["escalated"] == 0  # each step once


def test_future_years_are_marked_provisional(duban: Duban) -> None:
    duban("init")
    result = duban("status", "--plan", "shangcheng-2021-2025", "--as-of", "2027-03-01")
    assert result.exit_code == 0
    assert "按周一至周五推算" in result.output


def test_status_and_plans_show_mark_assumed_milestones_with_their_reason(duban: Duban) -> None:
    duban("init")
    status = duban("status", "--plan", "zhejiang-welfare-2016-2020", "--as-of", "2020-06-01",
                   "--json")
    rows = json.loads(status.output)["milestones"]
    reasons = {r["assumption"] for r in rows}
    assert len(rows) == 3 and None not in reasons and all("规划期末" in r for r in reasons)
    shown = duban("status", "--plan", "zhejiang-welfare-2016-2020", "--as-of", "2020-06-01")
    assert shown.output.count("（推定）") >= 3
    for reason in reasons:
        assert f"注：标（推定）的 1 个节点，规划未给出其日期或内容：{reason}" in shown.output
    plan = duban("plans", "show", "xiaoshan-2022-2025")
    assert "未标注" in plan.output and "预期性" not in plan.output


def test_the_outbox_lists_and_refuses_to_retry_what_is_not_there(duban: Duban) -> None:
    duban("init")
    duban("sweep", "--as-of", "2017-01-05")
    assert json.loads(duban("outbox", "list", "--failed", "--json").output) == []
    retry = duban("outbox", "retry", "999999")
    assert retry.exit_code == 2 and "no message with id 999999" in retry.output


def test_a_web_password_is_set_only_when_strong_enough(duban: Duban, database_url: str) -> None:
    duban("init")
    duban("people", "add", "--name", "周敏", "--email", "zhou.min@duban.example",
          "--role", "office")
    weak = duban("people", "password", "zhou.min@duban.example", "--password", "12345678901")
    assert weak.exit_code == 2
    unknown = duban("people", "password", "nobody@duban.example", "--password", "督办密码abc123")
    assert unknown.exit_code == 2 and "nobody@duban.example" in unknown.output
    good = duban("people", "password", "zhou.min@duban.example", "--password", "督办密码abc123")
    assert good.exit_code == 0, good.output
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(sa.text(
            "SELECT password_hash FROM person WHERE email = 'zhou.min@duban.example'")).scalar()
    engine.dispose()
    from models.rules.passwords import verify_password

    assert verify_password("督办密码abc123", stored)[0] is True


def test_an_api_token_is_printed_once_and_works_until_revoked(duban: Duban,
                                                              database_url: str) -> None:
    from fastapi.testclient import TestClient

    from models.store.database import make_engine
    from web.app import create_app

    duban("init")
    duban("people", "add", "--name", "王芳", "--email", "wang.fang@example.gov.cn",
          "--role", "owner", "--unit", "xihu-mzj")
    issued = duban("people", "token", "wang.fang@example.gov.cn", "--label", "周报脚本")
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()  # the token alone on stdout, for a script to capture
    assert token.startswith("dbn_") and "只显示这一次" in issued.stderr
    engine = make_engine(database_url)
    app = create_app(build(context.settings(), engine=engine, rules=context.rules(),
                           secret="duban-cli-test-secret-0123456789abcdef"))
    client, bearer = TestClient(app), {"Authorization": f"Bearer {token}"}
    me = client.get("/api/me", headers=bearer)
    assert me.status_code == 200 and me.json()["unit"]["code"] == "xihu-mzj"

    revoked = duban("people", "revoke-tokens", "wang.fang@example.gov.cn")
    assert revoked.exit_code == 0 and "1 个 API 令牌" in revoked.output
    assert client.get("/api/me", headers=bearer).status_code == 401
    unknown = duban("people", "token", "nobody@example.gov.cn")
    assert unknown.exit_code == 2 and "nobody@example.gov.cn" in unknown.output
    engine.dispose()


def test_tokens_are_issued_read_only_or_short_lived_and_listed_with_their_last_use(
        duban: Duban, database_url: str) -> None:
    from fastapi.testclient import TestClient

    from models.store.database import make_engine
    from web.app import create_app

    duban("init")
    duban("people", "add", "--name", "王芳", "--email", "wang.fang@example.gov.cn",
          "--role", "owner", "--unit", "xihu-mzj")
    for wrong in ("0", "3651"):
        refused = duban("people", "token", "wang.fang@example.gov.cn", "--expires-in", wrong)
        assert refused.exit_code == 2 and "--expires-in" in refused.output, refused.output
    issued = duban("people", "token", "wang.fang@example.gov.cn", "--label", "周报脚本",
                   "--read-only", "--expires-in", "30")
    assert issued.exit_code == 0 and "只读" in issued.stderr, issued.output
    duban("people", "token", "wang.fang@example.gov.cn", "--label", "填报脚本")
    engine = make_engine(database_url)
    app = create_app(build(context.settings(), engine=engine, rules=context.rules(),
                           secret="duban-cli-test-secret-0123456789abcdef"))
    bearer = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    with TestClient(app) as client:
        assert client.get("/api/me", headers=bearer).status_code == 200
        assert client.post("/api/milestones/1/progress", headers=bearer,
                           json={"percent": 10}).status_code == 403
    engine.dispose()
    listed = duban("people", "tokens", "wang.fang@example.gov.cn", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {r["label"]: r for r in json.loads(listed.stdout)}
    assert set(rows) == {"周报脚本", "填报脚本"}
    assert rows["周报脚本"]["read_only"] is True and rows["周报脚本"]["last_used_at"]
    assert rows["填报脚本"]["read_only"] is False and rows["填报脚本"]["last_used_at"] is None
    days = {label: (datetime.fromisoformat(r["expires_at"])
                    - datetime.fromisoformat(r["created_at"])).days for label, r in rows.items()}
    assert days == {"周报脚本": 30, "填报脚本": 90}
    shown = duban("people", "tokens", "wang.fang@example.gov.cn").output
    assert "只读" in shown and "读写" in shown and "从未使用" in shown and "有效" in shown
    duban("people", "revoke-tokens", "wang.fang@example.gov.cn")
    assert "已吊销" in duban("people", "tokens", "wang.fang@example.gov.cn").output
