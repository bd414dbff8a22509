"""campaignflow: the task lifecycle of municipal campaigns (创卫, 创文) under 四有四定.

The public surface is re-exported here; everything else is an implementation detail.
"""

from campaignflow.bulletin import Bulletin as Bulletin
from campaignflow.bulletin import build_bulletin as build_bulletin
from campaignflow.bulletin import render_html as render_html
from campaignflow.bulletin import write_bulletin as write_bulletin
from campaignflow.calendars import china_calendar as china_calendar
from campaignflow.clock import FixedClock as FixedClock
from campaignflow.clock import SystemClock as SystemClock
from campaignflow.decompose import DecompositionReport as DecompositionReport
from campaignflow.decompose import DecompositionRow as DecompositionRow
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
from campaignflow.domain.inspections import Finding as Finding
from campaignflow.domain.inspections import InspectionRound as InspectionRound
from campaignflow.domain.inspections import RoundKind as RoundKind
from campaignflow.domain.inspections import Severity as Severity
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
from campaignflow.domain.schemes import Adjustments as Adjustments
from campaignflow.domain.schemes import EscalatingDeductions as EscalatingDeductions
from campaignflow.domain.schemes import FailureDeductions as FailureDeductions
from campaignflow.domain.schemes import ScoreScheme as ScoreScheme
from campaignflow.domain.schemes import Threshold as Threshold
from campaignflow.domain.schemes import WeightedRates as WeightedRates
from campaignflow.domain.schemes import builtin_schemes as builtin_schemes
from campaignflow.domain.schemes import scheme_from_mapping as scheme_from_mapping
from campaignflow.domain.scoring import Adjustment as Adjustment
from campaignflow.domain.scoring import PartResult as PartResult
from campaignflow.domain.scoring import Period as Period
from campaignflow.domain.scoring import ProblemGroup as ProblemGroup
from campaignflow.domain.scoring import Ranked as Ranked
from campaignflow.domain.scoring import Rate as Rate
from campaignflow.domain.scoring import Score as Score
from campaignflow.domain.scoring import ScorePart as ScorePart
from campaignflow.domain.scoring import UnitMetrics as UnitMetrics
from campaignflow.domain.scoring import cumulative as cumulative
from campaignflow.domain.scoring import rank as rank
from campaignflow.domain.structure import Campaign as Campaign
from campaignflow.domain.structure import Grid as Grid
from campaignflow.domain.structure import Indicator as Indicator
from campaignflow.domain.structure import OfficeScope as OfficeScope
from campaignflow.domain.structure import Responsibility as Responsibility
from campaignflow.domain.structure import Separation as Separation
from campaignflow.domain.structure import Site as Site
from campaignflow.engine import Engine as Engine
from campaignflow.engine import Page as Page
from campaignflow.errors import ActionRefused as ActionRefused
from campaignflow.errors import BatchRefused as BatchRefused
from campaignflow.errors import CalendarYearUnknown as CalendarYearUnknown
from campaignflow.errors import CampaignflowError as CampaignflowError
from campaignflow.errors import ChannelError as ChannelError
from campaignflow.errors import CheckpointInvalid as CheckpointInvalid
from campaignflow.errors import ConflictError as ConflictError
from campaignflow.errors import DefinitionError as DefinitionError
from campaignflow.errors import DossierError as DossierError
from campaignflow.errors import EvidenceError as EvidenceError
from campaignflow.errors import EvidenceNotFound as EvidenceNotFound
from campaignflow.errors import FileProblem as FileProblem
from campaignflow.errors import InvalidEvidenceName as InvalidEvidenceName
from campaignflow.errors import InvalidInput as InvalidInput
from campaignflow.errors import InvalidTransition as InvalidTransition
from campaignflow.errors import LedgerError as LedgerError
from campaignflow.errors import LedgerProblem as LedgerProblem
from campaignflow.errors import Missing as Missing
from campaignflow.errors import NotFound as NotFound
from campaignflow.errors import PermissionDenied as PermissionDenied
from campaignflow.errors import PluginError as PluginError
from campaignflow.errors import PluginLoadError as PluginLoadError
from campaignflow.errors import PolicyUnavailable as PolicyUnavailable
from campaignflow.errors import RefusedRow as RefusedRow
from campaignflow.errors import RuleViolation as RuleViolation
from campaignflow.errors import SchemaNotReady as SchemaNotReady
from campaignflow.errors import StructureFileError as StructureFileError
from campaignflow.errors import UnitCycle as UnitCycle
from campaignflow.hookspecs import hookimpl as hookimpl
from campaignflow.inspections import RoundReport as RoundReport
from campaignflow.ledger import LedgerReport as LedgerReport
from campaignflow.ledger import export_ledger as export_ledger
from campaignflow.ledger import import_ledger as import_ledger
from campaignflow.policyversions import MigrationReport as MigrationReport
from campaignflow.policyversions import TaskMigration as TaskMigration
from campaignflow.recurring import RecurrenceReport as RecurrenceReport
from campaignflow.recurring import RecurringDuty as RecurringDuty
from campaignflow.scoring import available_schemes as available_schemes
from campaignflow.scoring import period_metrics as period_metrics
from campaignflow.scoring import ranking as ranking
from campaignflow.scoring import scheme_named as scheme_named
from campaignflow.scoring import score_period as score_period
from campaignflow.store.audit import Checkpoint as Checkpoint
from campaignflow.store.evidence import EvidenceStore as EvidenceStore
from campaignflow.store.evidence import LocalEvidenceStore as LocalEvidenceStore
from campaignflow.store.outbox import OutboxEntry as OutboxEntry
from campaignflow.structurefiles import StructureFile as StructureFile
from campaignflow.sweeping import SweepReport as SweepReport

__version__ = "0.1.0"

__all__ = [
    "ActionContext",
    "ActionRefused",
    "Actor",
    "Adjustment",
    "Adjustments",
    "AttributeField",
    "AuditReport",
    "BatchRefused",
    "Bulletin",
    "CalendarYearUnknown",
    "Campaign",
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
    "DecompositionReport",
    "DecompositionRow",
    "DefinitionError",
    "DeliveryPolicy",
    "Deployment",
    "DispatchReport",
    "DossierError",
    "Engine",
    "EscalatingDeductions",
    "Escalation",
    "EscalationLadder",
    "EscalationStep",
    "Event",
    "Evidence",
    "EvidenceError",
    "EvidenceNotFound",
    "EvidenceStore",
    "FailureDeductions",
    "FileProblem",
    "Finding",
    "FixedClock",
    "Grid",
    "HistoryEntry",
    "Indicator",
    "Inspection",
    "InspectionRound",
    "InvalidEvidenceName",
    "InvalidInput",
    "InvalidTransition",
    "JointWork",
    "KindSchema",
    "LedgerError",
    "LedgerProblem",
    "LedgerReport",
    "Lifecycle",
    "Limit",
    "LocalEvidenceStore",
    "Message",
    "MigrationReport",
    "Missing",
    "NotFound",
    "Notice",
    "OfficeScope",
    "OutboxEntry",
    "Page",
    "PartResult",
    "Period",
    "PermissionDenied",
    "Person",
    "Plan",
    "PlanStep",
    "PluginError",
    "PluginLoadError",
    "Policy",
    "PolicyUnavailable",
    "ProblemGroup",
    "Ranked",
    "Rate",
    "RateLimit",
    "RecurrenceReport",
    "RecurringDuty",
    "RefusedRow",
    "Responsibility",
    "Role",
    "RoundKind",
    "RoundReport",
    "Rule",
    "RuleSetVersion",
    "RuleViolation",
    "SchemaNotReady",
    "Score",
    "ScorePart",
    "ScoreScheme",
    "Separation",
    "Severity",
    "Site",
    "StructureFile",
    "StructureFileError",
    "SweepReport",
    "SystemClock",
    "Task",
    "TaskMigration",
    "TaskSource",
    "TaskState",
    "Template",
    "Threshold",
    "TransitionSpec",
    "Unit",
    "UnitCycle",
    "UnitMetrics",
    "Verdict",
    "Verification",
    "VerificationMode",
    "WeightedRates",
    "WorkCalendar",
    "available_schemes",
    "build_bulletin",
    "builtin_schemes",
    "china_calendar",
    "cumulative",
    "export_ledger",
    "hookimpl",
    "import_ledger",
    "period_metrics",
    "rank",
    "ranking",
    "render_html",
    "scheme_from_mapping",
    "scheme_named",
    "score_period",
    "write_bulletin",
]
