"""campaignflow: the task lifecycle of municipal campaigns (创卫, 创文) under 四有四定.

The public surface is re-exported here; everything else is an implementation detail.
"""

from campaignflow.calendars import china_calendar as china_calendar
from campaignflow.clock import FixedClock as FixedClock
from campaignflow.clock import SystemClock as SystemClock
from campaignflow.delivery import DeliveryPolicy as DeliveryPolicy
from campaignflow.delivery import DispatchReport as DispatchReport
from campaignflow.domain.audit import AuditReport as AuditReport
from campaignflow.domain.audit import ChainBreak as ChainBreak
from campaignflow.domain.calendar import Limit as Limit
from campaignflow.domain.calendar import WorkCalendar as WorkCalendar
from campaignflow.domain.clock import Clock as Clock
from campaignflow.domain.contacts import Contact as Contact
from campaignflow.domain.contacts import ContactRole as ContactRole
from campaignflow.domain.deadlines import DeadlinePolicy as DeadlinePolicy
from campaignflow.domain.deadlines import DeadlineRule as DeadlineRule
from campaignflow.domain.deadlines import DeadlineTable as DeadlineTable
from campaignflow.domain.escalation import Escalation as Escalation
from campaignflow.domain.escalation import EscalationLadder as EscalationLadder
from campaignflow.domain.escalation import EscalationStep as EscalationStep
from campaignflow.domain.joint import JointWork as JointWork
from campaignflow.domain.joint import Verdict as Verdict
from campaignflow.domain.joint import Verification as Verification
from campaignflow.domain.joint import VerificationMode as VerificationMode
from campaignflow.domain.lifecycle import Lifecycle as Lifecycle
from campaignflow.domain.lifecycle import TransitionSpec as TransitionSpec
from campaignflow.domain.messages import Channel as Channel
from campaignflow.domain.messages import Event as Event
from campaignflow.domain.messages import Message as Message
from campaignflow.domain.messages import Notice as Notice
from campaignflow.domain.messages import RateLimit as RateLimit
from campaignflow.domain.messages import Template as Template
from campaignflow.domain.model import Deployment as Deployment
from campaignflow.domain.model import Evidence as Evidence
from campaignflow.domain.model import HistoryEntry as HistoryEntry
from campaignflow.domain.model import Inspection as Inspection
from campaignflow.domain.model import Person as Person
from campaignflow.domain.model import Plan as Plan
from campaignflow.domain.model import PlanStep as PlanStep
from campaignflow.domain.model import Task as Task
from campaignflow.domain.model import TaskSource as TaskSource
from campaignflow.domain.model import TaskState as TaskState
from campaignflow.domain.model import Unit as Unit
from campaignflow.domain.policies import Policy as Policy
from campaignflow.domain.policies import RuleSetVersion as RuleSetVersion
from campaignflow.domain.roles import Actor as Actor
from campaignflow.domain.roles import Role as Role
from campaignflow.domain.rules import ActionContext as ActionContext
from campaignflow.domain.rules import Rule as Rule
from campaignflow.domain.schemas import AttributeField as AttributeField
from campaignflow.domain.schemas import KindSchema as KindSchema
from campaignflow.engine import Engine as Engine
from campaignflow.engine import Page as Page
from campaignflow.errors import ActionRefused as ActionRefused
from campaignflow.errors import CalendarYearUnknown as CalendarYearUnknown
from campaignflow.errors import CampaignflowError as CampaignflowError
from campaignflow.errors import ChannelError as ChannelError
from campaignflow.errors import CheckpointInvalid as CheckpointInvalid
from campaignflow.errors import ConflictError as ConflictError
from campaignflow.errors import DefinitionError as DefinitionError
from campaignflow.errors import DossierError as DossierError
from campaignflow.errors import EvidenceError as EvidenceError
from campaignflow.errors import EvidenceNotFound as EvidenceNotFound
from campaignflow.errors import InvalidEvidenceName as InvalidEvidenceName
from campaignflow.errors import InvalidInput as InvalidInput
from campaignflow.errors import InvalidTransition as InvalidTransition
from campaignflow.errors import Missing as Missing
from campaignflow.errors import NotFound as NotFound
from campaignflow.errors import PermissionDenied as PermissionDenied
from campaignflow.errors import PluginError as PluginError
from campaignflow.errors import PluginLoadError as PluginLoadError
from campaignflow.errors import PolicyUnavailable as PolicyUnavailable
from campaignflow.errors import RuleViolation as RuleViolation
from campaignflow.errors import SchemaNotReady as SchemaNotReady
from campaignflow.hookspecs import hookimpl as hookimpl
from campaignflow.policyversions import MigrationReport as MigrationReport
from campaignflow.policyversions import TaskMigration as TaskMigration
from campaignflow.recurring import RecurrenceReport as RecurrenceReport
from campaignflow.recurring import RecurringDuty as RecurringDuty
from campaignflow.store.audit import Checkpoint as Checkpoint
from campaignflow.store.evidence import EvidenceStore as EvidenceStore
from campaignflow.store.evidence import LocalEvidenceStore as LocalEvidenceStore
from campaignflow.store.outbox import OutboxEntry as OutboxEntry
from campaignflow.sweeping import SweepReport as SweepReport

__version__ = "0.1.0"

__all__ = [
    "ActionContext",
    "ActionRefused",
    "Actor",
    "AttributeField",
    "AuditReport",
    "CalendarYearUnknown",
    "CampaignflowError",
    "ChainBreak",
    "Channel",
    "ChannelError",
    "Checkpoint",
    "CheckpointInvalid",
    "Clock",
    "ConflictError",
    "Contact",
    "ContactRole",
    "DeadlinePolicy",
    "DeadlineRule",
    "DeadlineTable",
    "DefinitionError",
    "DeliveryPolicy",
    "Deployment",
    "DispatchReport",
    "DossierError",
    "Engine",
    "Escalation",
    "EscalationLadder",
    "EscalationStep",
    "Event",
    "Evidence",
    "EvidenceError",
    "EvidenceNotFound",
    "EvidenceStore",
    "FixedClock",
    "HistoryEntry",
    "Inspection",
    "InvalidEvidenceName",
    "InvalidInput",
    "InvalidTransition",
    "JointWork",
    "KindSchema",
    "Lifecycle",
    "Limit",
    "LocalEvidenceStore",
    "Message",
    "MigrationReport",
    "Missing",
    "NotFound",
    "Notice",
    "OutboxEntry",
    "Page",
    "PermissionDenied",
    "Person",
    "Plan",
    "PlanStep",
    "PluginError",
    "PluginLoadError",
    "Policy",
    "PolicyUnavailable",
    "RateLimit",
    "RecurrenceReport",
    "RecurringDuty",
    "Role",
    "Rule",
    "RuleSetVersion",
    "RuleViolation",
    "SchemaNotReady",
    "SweepReport",
    "SystemClock",
    "Task",
    "TaskMigration",
    "TaskSource",
    "TaskState",
    "Template",
    "TransitionSpec",
    "Unit",
    "Verdict",
    "Verification",
    "VerificationMode",
    "WorkCalendar",
    "china_calendar",
    "hookimpl",
]
