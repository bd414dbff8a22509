"""campaignflow: the task lifecycle of municipal campaigns (创卫, 创文) under 四有四定.

The public surface is re-exported here; everything else is an implementation detail.
"""

from campaignflow.calendars import china_calendar as china_calendar
from campaignflow.clock import FixedClock as FixedClock
from campaignflow.clock import SystemClock as SystemClock
from campaignflow.domain.calendar import Limit as Limit
from campaignflow.domain.calendar import WorkCalendar as WorkCalendar
from campaignflow.domain.clock import Clock as Clock
from campaignflow.domain.deadlines import DeadlinePolicy as DeadlinePolicy
from campaignflow.domain.deadlines import DeadlineRule as DeadlineRule
from campaignflow.domain.deadlines import DeadlineTable as DeadlineTable
from campaignflow.domain.escalation import Escalation as Escalation
from campaignflow.domain.escalation import EscalationLadder as EscalationLadder
from campaignflow.domain.escalation import EscalationStep as EscalationStep
from campaignflow.domain.lifecycle import Lifecycle as Lifecycle
from campaignflow.domain.lifecycle import TransitionSpec as TransitionSpec
from campaignflow.domain.model import Deployment as Deployment
from campaignflow.domain.model import Evidence as Evidence
from campaignflow.domain.model import HistoryEntry as HistoryEntry
from campaignflow.domain.model import Inspection as Inspection
from campaignflow.domain.model import Person as Person
from campaignflow.domain.model import Plan as Plan
from campaignflow.domain.model import PlanStep as PlanStep
from campaignflow.domain.model import Task as Task
from campaignflow.domain.model import TaskState as TaskState
from campaignflow.domain.model import Unit as Unit
from campaignflow.domain.roles import Actor as Actor
from campaignflow.domain.roles import Role as Role
from campaignflow.domain.rules import ActionContext as ActionContext
from campaignflow.domain.rules import Rule as Rule
from campaignflow.engine import Engine as Engine
from campaignflow.engine import Page as Page
from campaignflow.errors import ActionRefused as ActionRefused
from campaignflow.errors import CalendarYearUnknown as CalendarYearUnknown
from campaignflow.errors import CampaignflowError as CampaignflowError
from campaignflow.errors import ConflictError as ConflictError
from campaignflow.errors import DefinitionError as DefinitionError
from campaignflow.errors import InvalidInput as InvalidInput
from campaignflow.errors import InvalidTransition as InvalidTransition
from campaignflow.errors import Missing as Missing
from campaignflow.errors import NotFound as NotFound
from campaignflow.errors import PermissionDenied as PermissionDenied
from campaignflow.errors import RuleViolation as RuleViolation
from campaignflow.errors import SchemaNotReady as SchemaNotReady
from campaignflow.sweeping import SweepReport as SweepReport

__version__ = "0.1.0"

__all__ = [
    "ActionContext",
    "ActionRefused",
    "Actor",
    "CalendarYearUnknown",
    "CampaignflowError",
    "Clock",
    "ConflictError",
    "DeadlinePolicy",
    "DeadlineRule",
    "DeadlineTable",
    "DefinitionError",
    "Deployment",
    "Engine",
    "Escalation",
    "EscalationLadder",
    "EscalationStep",
    "Evidence",
    "FixedClock",
    "HistoryEntry",
    "Inspection",
    "InvalidInput",
    "InvalidTransition",
    "Lifecycle",
    "Limit",
    "Missing",
    "NotFound",
    "Page",
    "PermissionDenied",
    "Person",
    "Plan",
    "PlanStep",
    "Role",
    "Rule",
    "RuleViolation",
    "SchemaNotReady",
    "SweepReport",
    "SystemClock",
    "Task",
    "TaskState",
    "TransitionSpec",
    "Unit",
    "WorkCalendar",
    "china_calendar",
]
