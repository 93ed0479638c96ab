"""SQLModel tables and the pure rules over them.

Importing this package registers every table on ``SQLModel.metadata`` (Alembic needs them all).
"""

from models.api_token import ApiToken
from models.attachment import Attachment
from models.bulletin_record import BulletinRecord
from models.escalation_log import EscalationStep, Notification
from models.event import Event
from models.indicator import Indicator, IndicatorReading, IndicatorTarget
from models.link_use import LinkUse
from models.milestone import Milestone
from models.outbox import Message, SweepRun
from models.person import Person
from models.plan import Plan, Project
from models.unit import Unit

__all__ = ["ApiToken", "Attachment", "BulletinRecord", "EscalationStep", "Event", "Indicator",
           "IndicatorReading", "IndicatorTarget", "LinkUse", "Message", "Milestone",
           "Notification", "Person", "Plan", "Project", "SweepRun", "Unit"]
