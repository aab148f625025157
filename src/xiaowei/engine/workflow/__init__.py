"""The workflow engine: tasks in queues, held by one person at a time, due by a service level,
closed with a result (a second person checks results above a queue's threshold), every step
checked against the shared transition table and written to an audit trail.

It knows tasks, queues, people, service levels and approvals — no lending words: a domain
puts its meaning into a task's ``payload`` and ``result`` and its rules into
:class:`QueueRules`.
"""

from xiaowei.engine.workflow.errors import (
    AlreadyClaimed,
    CheckerRefused,
    NotClaimant,
    TaskNotFound,
    TransitionRefused,
    WorkflowBusy,
    WorkflowError,
)
from xiaowei.engine.workflow.queue import FinalHook, WorkQueue
from xiaowei.engine.workflow.records import NewTask, QueueRules, TaskEventView, TaskView
from xiaowei.engine.workflow.sla import ServiceLevel, WorkingCalendar, format_late, lateness
from xiaowei.engine.workflow.transitions import (
    STAGE_CHECKER,
    STAGE_FINAL,
    STAGE_RETURNED,
    check_move,
    needs_checker,
)

__all__ = [
    "STAGE_CHECKER", "STAGE_FINAL", "STAGE_RETURNED", "AlreadyClaimed", "CheckerRefused",
    "FinalHook", "NewTask", "NotClaimant", "QueueRules", "ServiceLevel", "TaskEventView",
    "TaskNotFound", "TaskView", "TransitionRefused", "WorkQueue", "WorkflowBusy",
    "WorkflowError", "WorkingCalendar", "check_move", "format_late", "lateness",
    "needs_checker",
]
