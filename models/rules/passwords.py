"""Password hashing and the password policy.

Hashes are argon2id through pwdlib's recommended settings, so the parameters follow the library
rather than a number copied into our code. `verify_password` also says when a stored hash was
made with weaker parameters (or another algorithm) and returns its replacement: the app stores
it at sign-in, the only moment the plain password is known.
"""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError

MIN_LENGTH = 10

_hasher = PasswordHash.recommended()


def hash_password(plain: str) -> str:
    """A salted argon2id hash: two hashes of one password differ."""
    return _hasher.hash(plain)


def verify_password(plain: str, hashed: str) -> tuple[bool, str | None]:
    """Whether `plain` matches `hashed`, and a new hash to store when `hashed` is outdated.

    A hash that cannot be read (corrupted, truncated, unknown scheme) is a failed sign-in, not
    a server error: the person sees "wrong password", the office can reset it.
    """
    try:
        return _hasher.verify_and_update(plain, hashed)
    except (PwdlibError, ValueError):
        return False, None


def check_password_policy(plain: str) -> None:
    """Refuse passwords that are too short or only digits (phone numbers, birthdays, ID tails).

    Kept deliberately simple: length matters more than character classes, and people here
    sign in rarely, from links in emails.
    """
    if len(plain) < MIN_LENGTH:
        raise ValueError(f"密码至少需要 {MIN_LENGTH} 个字符。")
    if plain.isdigit():
        raise ValueError("密码不能全部是数字，请加入字母或符号。")
