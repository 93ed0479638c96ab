"""The web app's security foundation: password hashes, signed item links, the permission table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import time_machine
from itsdangerous import URLSafeTimedSerializer
from pwdlib.hashers.argon2 import Argon2Hasher

from models.rules.item_links import SALT, LinkClaims, LinkInvalid, make_link_token, read_link_token
from models.rules.passwords import check_password_policy, hash_password, verify_password
from models.rules.permissions import Action, allowed

SECRET = "duban-test-secret-0123456789abcdef"
ISSUED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
DAY = 24 * 3600

# ── passwords ───────────────────────────────────────────────────────────────────────────────

PASSWORD = "民政局-督办-2026"


@pytest.fixture(scope="module")
def stored_hash() -> str:
    return hash_password(PASSWORD)


def test_a_hash_is_salted_and_never_the_password(stored_hash: str) -> None:
    assert stored_hash != PASSWORD
    assert PASSWORD not in stored_hash
    assert stored_hash.startswith("$argon2id$")
    assert hash_password(PASSWORD) != stored_hash


def test_the_right_password_verifies_without_an_upgrade(stored_hash: str) -> None:
    assert verify_password(PASSWORD, stored_hash) == (True, None)


def test_a_wrong_password_does_not_verify(stored_hash: str) -> None:
    assert verify_password(PASSWORD + "x", stored_hash) == (False, None)
    assert verify_password("", stored_hash) == (False, None)


def test_a_hash_with_weaker_parameters_verifies_and_is_replaced() -> None:
    weak = Argon2Hasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    ok, upgraded = verify_password(PASSWORD, weak)
    assert ok
    assert upgraded is not None and upgraded != weak
    assert verify_password(PASSWORD, upgraded) == (True, None)


@pytest.mark.parametrize(
    "damage",
    [
        lambda h: h[:-4] + ("AAAA" if not h.endswith("AAAA") else "BBBB"),  # digest changed
        lambda h: h[: len(h) // 2],  # truncated
        lambda h: h.replace("m=65536", "m=abc"),  # parameters unreadable
        lambda h: h.replace("$argon2id$", "$nosuch$"),  # unknown scheme
        lambda h: "garbage",
        lambda h: "",
    ],
    ids=["digest", "truncated", "parameters", "scheme", "garbage", "empty"],
)
def test_a_damaged_hash_fails_verification_instead_of_raising(stored_hash: str, damage) -> None:
    assert verify_password(PASSWORD, damage(stored_hash)) == (False, None)


@pytest.mark.parametrize("weak", ["short", "123456789", "123456789012", "13800138000"])
def test_the_policy_refuses_short_or_all_digit_passwords(weak: str) -> None:
    with pytest.raises(ValueError, match="密码"):
        check_password_policy(weak)


@pytest.mark.parametrize("good", ["abcdefghij", "2026年督办工作台账!", "1234567890a"])
def test_the_policy_accepts_ten_characters_not_all_digits(good: str) -> None:
    check_password_policy(good)


# ── links ───────────────────────────────────────────────────────────────────────────────────


def issue(**overrides: object) -> str:
    fields: dict = {"secret": SECRET, "person_id": 7, "milestone_id": 42, "nonce": "n-4f1c"}
    fields.update(overrides)
    with time_machine.travel(ISSUED, tick=False):
        return make_link_token(**fields)


def read(token: str, *, at: datetime = ISSUED, secret: str = SECRET) -> LinkClaims:
    with time_machine.travel(at, tick=False):
        return read_link_token(secret=secret, token=token, max_age_seconds=7 * DAY)


def reason(token: str, **kwargs: object) -> str:
    with pytest.raises(LinkInvalid) as caught:
        read(token, **kwargs)
    return caught.value.reason


def test_a_fresh_link_reads_back_its_claims() -> None:
    assert read(issue()) == LinkClaims(person_id=7, milestone_id=42, nonce="n-4f1c",
                                       issued_at=ISSUED)


def test_a_link_still_opens_on_the_last_second_of_its_life() -> None:
    assert read(issue(), at=ISSUED + timedelta(days=7)).milestone_id == 42


def test_a_link_past_its_age_is_expired() -> None:
    assert reason(issue(), at=ISSUED + timedelta(days=7, seconds=1)) == "expired"


def test_an_explicit_now_replaces_the_clock() -> None:
    token = issue()
    later = (ISSUED + timedelta(days=8)).timestamp()
    with pytest.raises(LinkInvalid) as caught:
        read_link_token(secret=SECRET, token=token, max_age_seconds=7 * DAY, now=later)
    assert caught.value.reason == "expired"
    early = (ISSUED + timedelta(days=1)).timestamp()
    claims = read_link_token(secret=SECRET, token=token, max_age_seconds=7 * DAY, now=early)
    assert claims.person_id == 7


@pytest.mark.parametrize("where", [0, 5, -5], ids=["payload-start", "payload", "signature"])
def test_a_link_with_one_character_changed_is_tampered(where: int) -> None:
    token = issue()
    original = token[where]
    changed = "B" if original == "A" else "A"
    position = where % len(token)
    forged = token[:position] + changed + token[position + 1:]
    assert forged != token
    assert reason(forged) == "tampered"


def test_a_link_signed_with_another_secret_is_tampered() -> None:
    assert reason(issue(secret="another-office-secret")) == "tampered"


def test_a_forged_link_is_tampered_even_when_old() -> None:
    forged = issue(secret="another-office-secret")
    assert reason(forged, at=ISSUED + timedelta(days=30)) == "tampered"


def test_a_token_signed_for_another_purpose_is_tampered() -> None:
    other = URLSafeTimedSerializer(SECRET, salt="duban-password-reset").dumps([7, 42, "n"])
    assert reason(other) == "tampered"


@pytest.mark.parametrize(
    "payload", [{"p": 7}, [7, 42], ["7", 42, "n"], [7, True, "n"], [7, 42, ""], [7, 42, 9]]
)
def test_a_correctly_signed_token_of_the_wrong_shape_is_tampered(payload: object) -> None:
    with time_machine.travel(ISSUED, tick=False):
        token = URLSafeTimedSerializer(SECRET, salt=SALT).dumps(payload)
    assert reason(token) == "tampered"


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c", "....", "%%%", "é.é.é"])
def test_garbage_is_tampered(garbage: str) -> None:
    assert reason(garbage) == "tampered"


def test_links_are_url_safe_as_they_are() -> None:
    for person_id in range(1, 30):
        token = issue(person_id=person_id, milestone_id=10_000 + person_id,
                      nonce=f"nonce/+={person_id}")
        assert quote(token, safe="") == token
        assert read(token).nonce == f"nonce/+={person_id}"


# ── permissions ─────────────────────────────────────────────────────────────────────────────
# The expected table is written out from the rules as agreed, not derived from `allowed`.

OWNER_ACTIONS = {"view_item", "report_progress", "claim_done", "request_extension"}
EVERY_ACTION = {
    "view_item", "report_progress", "claim_done", "request_extension", "decide_extension",
    "acknowledge", "snooze", "close", "return_for_redo", "reopen", "waive", "mark_major",
    "manage_people", "view_outbox", "instruct", "chase", "transfer",
}
ROLES = ["owner", "office", "leader", "admin", "visitor", "", "Office"]
# scope: (person's unit, item's unit)
SCOPES = {"same unit": (3, 3), "other unit": (3, 4), "no unit": (None, None),
          "person without unit": (None, 3), "item without unit": (3, None)}


def expected(role: str, action: str, scope: str) -> bool:
    if role == "owner":
        return action in OWNER_ACTIONS and scope == "same unit"
    if role == "office":
        return True
    if role == "leader":  # 批示 in their remit: their unit's items, or all for a leader of none
        return action == "view_item" or (action == "instruct"
                                          and scope in ("same unit", "person without unit"))
    if role == "admin":
        return action in {"manage_people", "view_outbox", "view_item"}
    return False


def test_the_action_list_is_the_agreed_one() -> None:
    assert {a.value for a in Action} == EVERY_ACTION


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("action", sorted(EVERY_ACTION))
@pytest.mark.parametrize("role", ROLES)
def test_the_permission_table(role: str, action: str, scope: str) -> None:
    person_unit, item_unit = SCOPES[scope]
    got = allowed(role=role, person_unit_id=person_unit, action=Action(action),
                  item_unit_id=item_unit)
    assert got is expected(role, action, scope)


@pytest.mark.parametrize("role", ROLES)
def test_an_inactive_person_may_do_nothing(role: str) -> None:
    for action in Action:
        for person_unit, item_unit in SCOPES.values():
            assert not allowed(role=role, person_unit_id=person_unit, action=action,
                               item_unit_id=item_unit, active=False)
