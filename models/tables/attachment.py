"""Files attached to a milestone as evidence (佐证材料), kept in the data directory.

The row is the record; the bytes live at ``data_dir/attachments/<stored_as>``, a random name
that never comes from the uploader. The file is written before the row is committed and the row
names it, so a failed upload leaves at most an unreferenced file, never a row without bytes.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.tables.columns import utcnow


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    milestone_id: int = Field(foreign_key="milestone.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id")  # the claim it supports
    name: str = Field(max_length=200)          # the uploader's file name, cleaned, for display
    content_type: str = Field(max_length=100)  # decided from the checked kind, not the browser
    size: int
    sha256: str = Field(max_length=64)
    stored_as: str = Field(max_length=64, unique=True)  # random; also the download URL's key
    uploaded_by_id: int | None = Field(default=None, foreign_key="person.id")
    uploaded_at: datetime = Field(default_factory=utcnow)
