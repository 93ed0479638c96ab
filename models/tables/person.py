"""People: who acts, who is notified, who may do what."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from models.tables.columns import enum_column, utcnow


class Role(StrEnum):
    office = "office"  # 督查室: supervises, decides extensions, closes items
    owner = "owner"    # 项目负责人: reports progress for their unit
    leader = "leader"  # 分管领导: reads; escalations end with them
    admin = "admin"    # manages people and units


class NotifyVia(StrEnum):
    """Where a person's own notices go. E-mail is every person's fallback: a work notice that
    cannot reach them (no app configured, an unknown user id) is sent as e-mail instead."""

    email = "email"
    dingtalk = "dingtalk"  # 钉钉工作通知, to dingtalk_userid
    wecom = "wecom"        # 企业微信应用消息, to wecom_userid


class Person(SQLModel, table=True):
    """People are deactivated, never deleted: the event log keeps pointing at them."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    email: str = Field(max_length=320, unique=True)  # stored lower-case
    role: Role = enum_column(Role)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    heads_unit: bool = False  # receives the unit's supervision notices (督办单)
    phone: str | None = Field(default=None, max_length=50)
    notify_via: NotifyVia = enum_column(NotifyVia, default=NotifyVia.email)
    dingtalk_userid: str | None = Field(default=None, max_length=64)  # the org's userid
    wecom_userid: str | None = Field(default=None, max_length=64)     # 企业微信 UserID
    active: bool = True
    password_hash: str | None = Field(default=None, max_length=200)  # None: no password
    # Kept in the session cookie at sign-in; bumping it ends every session of this person.
    session_version: int = 0
    created_at: datetime = Field(default_factory=utcnow)

    def end_sessions(self) -> None:
        """Sign this person out everywhere: every session cookie issued so far is refused
        (web.context.Web.current compares the version it carries)."""
        self.session_version += 1
