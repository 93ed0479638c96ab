"""``POST /milestones/bulk``: the office's list checkboxes, one action over the items ticked.

The form carries each ticked item as ``id:version`` (the version the list showed), so an
item someone changed since refuses the whole, as a stale form does for one item. The answer is
a page: what was done to which item, or why nothing was (services.bulk_actions).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.bulk_actions import WORDS, BulkAction, BulkRefused, take_all
from web.dependencies import CurrentUser, FormToken, Refused, WebDep, WriterDep, check_token

router = APIRouter()


@router.post("/milestones/bulk", response_class=HTMLResponse)
async def bulk(request: Request, web: WebDep, db: WriterDep, me: CurrentUser,
               token: FormToken) -> Response:
    check_token(request, token, me)
    form = await request.form()
    back = str(form.get("back") or "/")
    back = back if back.startswith("/") and not back.startswith("//") else "/"
    try:
        action = BulkAction(str(form.get("action") or ""))
    except ValueError:
        raise Refused(400, "无法执行", "请选择一种批量操作。", me) from None
    versions: dict[int, int] = {}
    for raw in form.getlist("ids"):
        item, _, version = str(raw).partition(":")
        if not item.isdigit() or not version.isdigit():
            raise Refused(400, "无法执行", f"选择的事项“{raw}”无法识别，请刷新列表后重试。", me)
        versions[int(item)] = int(version)
    until_raw = str(form.get("until") or "")
    try:
        until = date.fromisoformat(until_raw) if until_raw else None
    except ValueError:
        raise Refused(400, "无法执行", f"暂缓至“{until_raw}”不是日期（YYYY-MM-DD）。", me) from None
    reason = str(form.get("reason") or "").strip() or None
    try:
        done = take_all(session=db, settings=web.settings, rules=web.rules, me=me,
                        action=action, ids=list(versions), now=web.now(), reason=reason,
                        until=until, versions=versions)
    except ValueError as bad:
        raise Refused(400, "无法执行", str(bad), me) from None
    except BulkRefused as refused:
        return web.page(request, "bulk_result.html", 403 if refused.forbidden else 409,
                        me=me, action=WORDS[action], done=[], refused=refused.refusals,
                        back=back)
    return web.page(request, "bulk_result.html", me=me, action=WORDS[action], done=done,
                    refused=[], back=back)
