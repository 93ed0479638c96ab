"""Taking an action on a milestone: the one way the CLI, the web pages and the API do it.

The action (models.store.actions) records its event and the status it leads to; then, in the
same transaction, the confirmation its person is owed is queued (notifications.confirmations:
done received, extension decided, item closed) and the notices its unit is owed
(notifications.item_notices: 领导批示, 催办, 转办). So a decision and the mail that tells of it
are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from config.settings import Settings
from models.store.actions import Recorded
from models.tables.milestone import Milestone
from notifications.confirmations import queue_confirmation
from notifications.item_notices import queue_item_notices


def take(action: Callable[..., Recorded], *, session: Session, settings: Settings,
         **arguments: Any) -> Milestone:
    """Run ``action`` with ``session`` and ``arguments``, queue its confirmation, and answer
    the milestone as it now is. The caller commits (models.store.actions.commit_retrying)."""
    recorded = action(session=session, **arguments)
    queue_confirmation(session=session, settings=settings, event=recorded.event)
    queue_item_notices(session=session, settings=settings, event=recorded.event)
    return recorded.milestone
