"""Email templates and messages: what a person receives, and what a mail server is handed.

A small named world from the seed plans: 王明 owns 区社会福利中心二期工程 at 杭州市西湖区民政局,
and the office chases its milestones (开工建设, 完成立项) and one of 凯旋街道's.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from jinja2 import UndefinedError

from notifications.email_message import build_email, message_id_for
from notifications.render import TEMPLATE_DIR, TEMPLATES, Rendered, clip, cn_date, render

LOCALES = ("zh-CN", "en")
PLAN = "杭州市西湖区民政事业发展“十三五”规划"
PROJECT = "区社会福利中心二期工程"
UNIT = "杭州市西湖区民政局"
BASE = "https://duban.xihu.example/milestones"
XSS = "<script>alert(1)</script>"
HOVER = '<b onmouseover="alert(1)">已完成</b>'


def item(level: int, title: str, *, link_id: int, history: list[dict[str, str]] | None = None,
         **overrides: Any) -> dict[str, Any]:
    kind, name = {1: ("reminder", "催办提醒"), 2: ("notice", "督办单")}.get(
        level, ("leader", "领导督办"))
    values = {"kind": kind, "level": level, "level_name": name, "reason": "overdue",
              "repeat": 0, "title": title, "project": PROJECT, "plan": PLAN, "unit": UNIT,
              "due_on": "2025-09-30", "overdue_workdays": 12, "commitment": "binding",
              "link": f"{BASE}/{link_id}", "history": history or []}
    return values | overrides


def digest_items() -> list[dict[str, Any]]:
    """Levels 1, 2, 3 in that (wrong) order, each with a history entry naming its level."""
    return [
        item(1, "完成立项", link_id=7, reason="due_soon", overdue_workdays=0,
             due_on="2025-10-24", commitment="expected",
             history=[{"on": "2025-10-01", "what": "一级事项的记录", "who": "系统"}]),
        item(2, "凯旋街道党群服务中心（邻里中心）建成投用", link_id=9, reason="binding",
             unit="杭州市上城区凯旋街道", project="凯旋街道党群服务中心 (邻里中心)",
             history=[{"on": "2025-10-16", "what": "二级事项的记录", "who": "李华"}]),
        item(3, "开工建设", link_id=8, reason="repeat", repeat=2, overdue_workdays=35,
             commitment=None,  # the plan gives neither: 未标注
             history=[{"on": "2025-09-04", "what": "三级事项的记录", "who": "系统"}]),
    ]


def contexts() -> dict[str, dict[str, Any]]:
    link = f"{BASE}/8"
    owner = {"recipient": "王明", "title": "开工建设", "project": PROJECT, "link": link}
    return {
        "escalation_digest": {"recipient": "王明", "as_of": "2025-10-21",
                              "office": "项目督办办公室", "items": digest_items(),
                              "total": 3, "more": None},
        "done_received": owner | {"unit": UNIT, "claimed_on": "2025-10-20", "evidence":
                                  "已取得施工许可证，10月18日开工。\n附现场照片。"},
        "extension_decided": owner | {"approved": True, "previous_due_on": "2025-06-30",
                                      "new_due_on": "2025-09-30", "reason": "用地手续调整"},
        "item_closed": owner | {"closed_on": "2025-10-21", "late": True},
        "item_notice": owner | {"kind": "instructed", "unit": UNIT, "actor": "赵书记",
                                "text": "请倒排工期，确保年底前完成。"},
    }


def titles(template: str, context: dict[str, Any]) -> list[str]:
    if template == "escalation_digest":
        return [i["title"] for i in context["items"]]
    return [context["title"]]


def links(context: dict[str, Any]) -> set[str]:
    found = {i["link"] for i in context.get("items", [])}
    if "link" in context:
        found.add(context["link"])
    return found


# --- rendering ---------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_a_one_line_subject_and_both_parts(template: str,
                                                                   locale: str) -> None:
    context = contexts()[template]
    rendered = render(template, context, locale=locale)

    assert rendered.subject and "\n" not in rendered.subject and "\r" not in rendered.subject
    for title in titles(template, context):
        assert title in rendered.text
        assert title in rendered.html
    assert "<script" not in rendered.html.lower()
    assert not re.search(r"<(img|link|style|iframe|object|embed)\b", rendered.html, re.I)
    assert "url(" not in rendered.html
    assert set(re.findall(r"https?://[^\s\"'<>]+", rendered.html)) == links(context)
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert "max-width:600px" in rendered.html


def test_dates_read_the_chinese_way_in_zh_and_as_given_in_en() -> None:
    assert cn_date("2025-10-21") == "2025年10月21日"
    assert cn_date("2025-06-05") == "2025年6月5日"
    context = contexts()["escalation_digest"]

    zh = render("escalation_digest", context)
    en = render("escalation_digest", context, locale="en")

    assert zh.subject == "【督办】3项事项需要您处理（2025年10月21日）"
    assert "2025年9月30日" in zh.text and "2025年9月30日" in zh.html
    assert en.subject == "[Duban] 3 items need your attention (2025-10-21)"
    assert "2025-09-30" in en.text and "2025年" not in en.html


def test_digest_shows_the_highest_level_first_and_history_only_for_notices_and_leaders() -> None:
    context = contexts()["escalation_digest"]
    for locale in LOCALES:
        rendered = render("escalation_digest", context, locale=locale)
        for part in (rendered.text, rendered.html):
            leader, notice, reminder = (part.index(i["title"]) for i in reversed(digest_items()))
            assert leader < notice < reminder
            assert "三级事项的记录" in part and "二级事项的记录" in part
            assert "一级事项的记录" not in part


def test_digest_shows_reason_repeat_commitment_and_lateness_in_words() -> None:
    rendered = render("escalation_digest", contexts()["escalation_digest"])

    for words in ("再次催办", "第3次", "约束性事项提前升级", "临期提醒", "约束性", "预期性",
                  "未标注", "已逾期35个工作日", "领导督办", "督办单", "催办提醒", "项目督办办公室"):
        assert words in rendered.text and words in rendered.html, words
    english = render("escalation_digest", contexts()["escalation_digest"], locale="en")
    for words in ("Chased again", "3rd notice", "Binding target, escalated early",
                  "Due soon", "Leader supervision", "35 working days", "Unmarked"):
        assert words in english.text and words in english.html, words


@pytest.mark.parametrize("locale", LOCALES)
def test_titles_and_evidence_are_escaped_in_html_and_literal_in_text(locale: str) -> None:
    claim = contexts()["done_received"] | {"title": XSS, "evidence": HOVER}
    digest = contexts()["escalation_digest"]
    digest["items"][0]["title"] = HOVER
    digest["items"][2]["title"] = XSS

    for rendered in (render("done_received", claim, locale=locale),
                     render("escalation_digest", digest, locale=locale)):
        assert "<script" not in rendered.html and "<b onmouseover" not in rendered.html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
        assert "&lt;b onmouseover=&#34;alert(1)&#34;&gt;" in rendered.html
        assert XSS in rendered.text and HOVER in rendered.text
    subject = render("done_received", claim, locale=locale).subject  # a subject is not HTML
    assert "<script>" in subject and "&lt;" not in subject


@pytest.mark.parametrize("locale", LOCALES)
def test_a_title_with_a_newline_still_gives_a_one_line_subject(locale: str) -> None:
    context = contexts()["done_received"] | {"title": "开工建设\r\nBcc: x@evil.example\u2028X"}

    subject = render("done_received", context, locale=locale).subject

    assert "\r" not in subject and "\n" not in subject and "\u2028" not in subject
    assert "开工建设 Bcc: x@evil" in subject


LONG_TITLE = ("完成区社会福利中心二期工程主体结构封顶、消防验收、竣工验收备案和设施设备安装调试，"
              "落实运营机构并通过等级评定，新增养老床位300张、护理型床位占比达到60%以上，"
              "同步建成康复护理、失智照护、医养结合和智慧养老服务平台，实现老年人入住"
              "和社区居家养老服务辐射周边街道全覆盖，年底前通过省级示范性养老机构评估验收并"
              "向社会公布服务项目、收费标准和监督电话，接受群众监督")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", ["done_received", "extension_decided", "item_closed"])
def test_a_long_title_is_cut_in_the_subject_and_whole_in_the_body(template: str,
                                                                   locale: str) -> None:
    assert len(LONG_TITLE) > 160  # the seed plans' longest run to about 200
    context = contexts()[template] | {"title": LONG_TITLE, "project": "区社会福利中心二期工程"
                                      "（含康复护理楼、失智照护楼和综合服务楼）"}

    rendered = render(template, context, locale=locale)

    assert len(rendered.subject) <= 60
    start = LONG_TITLE[:10]
    assert start in rendered.subject and LONG_TITLE not in rendered.subject
    assert rendered.subject.endswith(("…）", "…)")), rendered.subject  # the bracket still closes
    assert LONG_TITLE in rendered.text and LONG_TITLE in rendered.html
    assert context["project"] in rendered.text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_short_title_keeps_its_whole_subject(locale: str) -> None:
    subject = render("done_received", contexts()["done_received"], locale=locale).subject
    assert f"{PROJECT}" in subject and "开工建设" in subject and "…" not in subject


@pytest.mark.parametrize(("text", "room", "cut"), [
    ("开工建设", 4, "开工建设"),
    ("开工建设完成", 4, "开工建…"),
    ("café au lait", 5, "café…"),
    ("cafe\u0301s", 5, "caf…"),             # not between e and its accent
    ("ab\U0001f468\u200d\U0001f469\u200d\U0001f467x", 5, "ab…"),  # nor inside a family emoji
    ("a\u2764\ufe0fb", 3, "a…"),            # nor before a variation selector
    ("开工建设", 1, "…"),
])
def test_a_cut_falls_between_whole_characters(text: str, room: int, cut: str) -> None:
    assert clip(text, room) == cut


def test_a_rejected_extension_says_the_old_date_still_holds() -> None:
    context = contexts()["extension_decided"] | {"approved": False, "new_due_on": None,
                                                 "reason": None}
    rendered = render("extension_decided", context)

    assert "未获批准" in rendered.subject
    assert "到期日期仍为2025年6月30日" in rendered.text
    assert "审批意见" not in rendered.text and "新到期日期" not in rendered.html
    assert "not approved" in render("extension_decided", context, locale="en").subject


def test_a_late_close_out_says_so() -> None:
    late = render("item_closed", contexts()["item_closed"])
    on_time = render("item_closed", contexts()["item_closed"] | {"late": False})

    assert "超时完成" in late.subject and "超时完成" in late.html
    assert "超时" not in on_time.subject and "按期完成" in on_time.text


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_missing_context_key_raises(template: str) -> None:
    context = dict(contexts()[template])
    del context["recipient"]
    with pytest.raises(UndefinedError):
        render(template, context)


def test_a_missing_key_inside_a_digest_item_raises() -> None:
    context = contexts()["escalation_digest"]
    del context["items"][1]["unit"]
    with pytest.raises(UndefinedError):
        render("escalation_digest", context, locale="en")


def test_unknown_template_or_locale_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="weekly_report"):
        render("weekly_report", {})
    with pytest.raises(ValueError, match="fr"):
        render("item_closed", contexts()["item_closed"], locale="fr")
    with pytest.raises(ValueError, match="base"):
        render("base", {})


def test_both_locales_have_all_three_files_of_every_template() -> None:
    names = {f"{t}.{part}.j2" for t in TEMPLATES for part in ("subject", "txt", "html")}
    for locale in LOCALES:
        files = {p.name for p in (TEMPLATE_DIR / locale).glob("*.j2")}
        bulletin = {f"bulletin.{part}.j2" for part in ("subject", "txt", "html")}
        assert bulletin <= files  # rendered by notifications/bulletin/page.py
        extra = {"base.html.j2", "base.txt.j2", "_ui.html.j2", "_words.j2",
                 "bulletin_print.html.j2", "order_print.html.j2"}  # print: Chinese only
        assert files - extra - bulletin == names


def test_a_link_that_is_not_http_is_refused() -> None:
    context = contexts()["item_closed"] | {"link": "javascript:alert(1)"}
    with pytest.raises(ValueError, match="link"):
        render("item_closed", context)


# --- the email message -------------------------------------------------------------------------

SENT = datetime(2025, 10, 21, 1, 0, tzinfo=UTC)


def email_for(rendered: Rendered, **overrides: Any) -> email.message.EmailMessage:
    arguments = {"rendered": rendered, "sender_name": "项目督办办公室",
                 "sender_address": "duban@xihu.example", "to_name": "王明",
                 "to_address": "wangming@xihu.example",
                 "message_id": message_id_for("digest:sweep-1:wangming@xihu.example",
                                              "xihu.example"),
                 "date": SENT} | overrides
    return build_email(**arguments)


def parsed(message: email.message.EmailMessage) -> email.message.EmailMessage:
    return email.message_from_bytes(message.as_bytes(),  # type: ignore[return-value]
                                    policy=email.policy.default)


def test_the_email_round_trips_with_chinese_subject_names_and_both_parts() -> None:
    rendered = render("escalation_digest", contexts()["escalation_digest"])

    back = parsed(email_for(rendered))

    assert back["Subject"] == rendered.subject
    assert back["From"].addresses[0].display_name == "项目督办办公室"
    assert back["From"].addresses[0].addr_spec == "duban@xihu.example"
    assert back["To"].addresses[0].display_name == "王明"
    assert back["Auto-Submitted"] == "auto-generated"
    assert back["Date"].datetime == SENT
    assert back.get_content_type() == "multipart/alternative"
    parts = list(back.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    # base64 carries text in its canonical form, CRLF line breaks (RFC 2045), and decodes so
    assert parts[0].get_content().replace("\r\n", "\n") == rendered.text
    assert parts[1].get_content().replace("\r\n", "\n") == rendered.html
    assert all(len(line) <= 998 for line in email_for(rendered).as_bytes().split(b"\r\n"))


def test_a_long_chinese_subject_is_folded_and_decodes_intact() -> None:
    context = contexts()["done_received"] | {"title": "建成区级智慧养老服务平台并投入运行" * 4}
    rendered = render("done_received", context)
    raw = email_for(rendered).as_bytes()

    assert b"=?utf-8?" in raw and all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert parsed(email_for(rendered))["Subject"] == rendered.subject


def test_the_message_id_is_stable_per_outbox_key() -> None:
    first = message_id_for("digest:sweep-1:wangming@xihu.example", "xihu.example")

    assert first == message_id_for("digest:sweep-1:wangming@xihu.example", "xihu.example")
    assert first != message_id_for("digest:sweep-2:wangming@xihu.example", "xihu.example")
    assert re.fullmatch(r"<duban\.[0-9a-f]{32}@xihu\.example>", first)
    assert parsed(email_for(render("item_closed", contexts()["item_closed"])))[
        "Message-ID"] == first
    with pytest.raises(ValueError, match="domain"):
        message_id_for("k", "xihu.example>\r\nBcc: x@evil.example")


def test_a_naive_date_is_taken_as_utc() -> None:
    rendered = render("item_closed", contexts()["item_closed"])
    back = parsed(email_for(rendered, date=SENT.replace(tzinfo=None)))
    assert back["Date"].datetime == SENT


@pytest.mark.parametrize("field, value", [
    ("sender_name", "项目督办办公室\r\nBcc: x@evil.example"),
    ("to_name", "王明\n"),
    ("sender_address", "duban@xihu.example\r\nBcc: x@evil.example"),
    ("to_address", "wangming@xihu.example\n"),
    ("to_address", "王明@西湖.example"),
    ("to_address", "wangming@xihu.example, x@evil.example"),
    ("to_address", "Wang Ming <wangming@xihu.example>"),
    ("sender_address", "not-an-address"),
    ("message_id", "<a@b>\r\nBcc: x@evil.example"),
])
def test_header_values_that_could_inject_or_are_not_plain_addresses_are_refused(
        field: str, value: str) -> None:
    rendered = render("item_closed", contexts()["item_closed"])
    with pytest.raises(ValueError, match=field):
        email_for(rendered, **{field: value})


def test_a_subject_with_a_newline_is_refused_when_built_directly() -> None:
    rendered = Rendered("【督办】开工建设\r\nBcc: x@evil.example", "正文\n", "<p>正文</p>\n")
    with pytest.raises(ValueError, match="subject"):
        email_for(rendered)


def test_a_rendered_subject_from_a_hostile_title_builds_a_clean_header() -> None:
    context = contexts()["done_received"] | {"title": "开工建设\r\nBcc: x@evil.example"}
    back = parsed(email_for(render("done_received", context)))

    assert back["Bcc"] is None
    assert "\n" not in back["Subject"] and "Bcc: x@evil.example" in back["Subject"]
