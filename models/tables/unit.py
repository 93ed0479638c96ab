"""Responsible units (责任单位) and the people in them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from models.tables.columns import enum_column, utcnow


class UnitKind(StrEnum):
    bureau = "bureau"            # 局
    department = "department"    # 部门 / 厅
    subdistrict = "subdistrict"  # 街道
    town = "town"                # 镇
    office = "office"            # 办公室
    other = "other"


class Unit(SQLModel, table=True):
    """A unit's contact is its general contact point for notices.

    Plans name no contacts, so an imported unit gets a placeholder (``contact_placeholder``) that
    the office replaces; nothing is ever sent to a placeholder address.
    """

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200, unique=True)
    kind: UnitKind = enum_column(UnitKind)
    contact_name: str = Field(max_length=200)
    contact_email: str = Field(max_length=320)
    contact_phone: str | None = Field(default=None, max_length=50)
    contact_placeholder: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


def placeholder_contact(code: str, name: str) -> dict[str, Any]:
    # .invalid is reserved (RFC 2606): mail to it can never reach anyone by accident.
    return {"contact_name": f"{name}联系人（待补充）",
            "contact_email": f"{code}@placeholder.invalid",
            "contact_phone": None, "contact_placeholder": True}
