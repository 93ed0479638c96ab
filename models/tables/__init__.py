"""SQLModel tables: the rows Duban keeps, and nothing that reads or writes them.

Importing this package registers every table on ``SQLModel.metadata`` (Alembic needs them all).
"""

from models.tables.api_token import ApiToken
from models.tables.attachment import Attachment
from models.tables.bulletin_record import BulletinRecord
from models.tables.co_unit import MilestoneCoUnit
from models.tables.escalation import EscalationStep, Notice
from models.tables.event import Event
from models.tables.event_seal import EventChainHead, EventSeal
from models.tables.indicator import Indicator, IndicatorReading, IndicatorTarget
from models.tables.light_change import LightChange
from models.tables.link_use import LinkUse
from models.tables.message import Message
from models.tables.milestone import Milestone
from models.tables.order import FeedbackChase, OrderSequence, SupervisionOrder
from models.tables.person import Person
from models.tables.plan import Plan, Project
from models.tables.sign_in_attempt import SignInAttempt
from models.tables.sweep_run import SweepRun
from models.tables.unit import Unit
from models.tables.working_day import WorkingDay, WorkingDaySource

__all__ = ["ApiToken", "Attachment", "BulletinRecord", "EscalationStep", "Event",
           "EventChainHead", "EventSeal", "FeedbackChase", "Indicator", "IndicatorReading",
           "IndicatorTarget", "LightChange", "LinkUse", "Message", "Milestone", "MilestoneCoUnit",
           "Notice", "OrderSequence", "Person", "Plan", "Project", "SignInAttempt",
           "SupervisionOrder", "SweepRun", "Unit", "WorkingDay", "WorkingDaySource"]
