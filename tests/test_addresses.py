"""One rule for e-mail addresses, at entry and at send: what Duban cannot send (a non-ASCII
address, as it sends without SMTPUTF8) is refused where it is typed, naming it, and nothing is
stored; so no such address ever reaches the outbox from the CLI, the pages or a plan file."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from config.plan_loader import PlanFileInvalid, parse_plan_text
from tests.conftest import Duban, snapshot
from tests.test_plan_file import GOOD
from tests.test_web_app import OFFICE
from tests.test_web_office import Site, post, site, unit_id  # noqa: F401 (a fixture)

UNSENDABLE = ["c@exämple.org", "li@例子.公司", "王芳@example.gov.cn"]


@pytest.mark.parametrize("address", UNSENDABLE)
def test_the_cli_refuses_a_contact_it_could_not_send_to(duban: Duban, database_url: str,
                                                        address: str) -> None:
    assert duban("init").exit_code == 0
    engine = sa.create_engine(database_url)
    before = snapshot(engine)
    refused = duban("units", "set-contact", "xihu-mzj", "--name", "陈静", "--email", address)
    assert refused.exit_code == 2 and "plain ASCII" in refused.output
    added = duban("people", "add", "--name", "陈静", "--email", address, "--role", "office")
    assert added.exit_code == 2 and "plain ASCII" in added.output
    assert snapshot(engine) == before
    engine.dispose()


def test_the_page_refuses_a_contact_it_could_not_send_to(site: Site) -> None:  # noqa: F811
    site.login(OFFICE)
    before = snapshot(site.engine)
    refused = post(site, f"/units/{unit_id(site, 'demo-jd')}", name="李娜",
                   email="li@例子.公司", phone="")
    assert refused.status_code == 400
    assert snapshot(site.engine) == before


def test_a_plan_file_contact_that_cannot_be_sent_to_is_named_with_its_line() -> None:
    text = GOOD.replace("    kind: bureau\n", "    kind: bureau\n    contact:\n"
                        "      name: 陈静\n      email: c@exämple.org\n")
    with pytest.raises(PlanFileInvalid) as refused:
        parse_plan_text(text, "demo.yaml")
    assert any("demo.yaml:12" in str(p) and "plain ASCII" in str(p)
               for p in refused.value.problems), refused.value.problems
