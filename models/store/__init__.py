"""Loaders and writers: the only modules that query the database. The caller owns the
transaction unless a function says otherwise."""

# Every session seals the events it writes into the hash chain as it commits; the hooks are
# registered when this module is imported, so before any store module writes an event.
from models.store import event_chain  # noqa: E402, F401
