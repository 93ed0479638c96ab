"""The seals of the event log's hash chain (models.rules.event_chain), and its head.

A seal is the chain's link for one event: written in the transaction that writes the event, at
its commit (models.store.event_chain), append-only like the events themselves (the database
refuses UPDATE and DELETE; migration 0008). The head is one row, the last link, updated by
every transaction that seals: on PostgreSQL it is locked (``FOR UPDATE``) while a transaction
seals, so two writers cannot both extend the chain from the same link; on SQLite the writer
lock does the same. The event id is a plain column, no foreign key: a seal whose event was
deleted is exactly what verification must be able to find.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class EventSeal(SQLModel, table=True):
    __tablename__ = "event_seal"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    event_id: int = Field(unique=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class EventChainHead(SQLModel, table=True):
    __tablename__ = "event_chain_head"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0
    event_id: int | None = None
    hash: str = Field(max_length=64)
