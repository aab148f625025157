"""What the workflow refuses, as distinct error types a page or command can tell apart."""

from __future__ import annotations


class WorkflowError(ValueError):
    """A workflow step is refused; the message says why in words a person can act on."""


class TaskNotFound(WorkflowError):
    """No task has that id."""


class TransitionRefused(WorkflowError):
    """The task may not move from its state to the one asked for (both are named)."""


class AlreadyClaimed(WorkflowError):
    """Someone else holds the task: the message names them and since when."""


class NotClaimant(WorkflowError):
    """Only the person holding the task may do this step."""


class CheckerRefused(WorkflowError):
    """Maker–checker: the checker may not be the maker, or there is nothing to check."""


class WorkflowBusy(WorkflowError):
    """Every retry met a concurrent change; trying again later will do."""
