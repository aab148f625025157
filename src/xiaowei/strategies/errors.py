"""The errors the strategy store raises, each with a message a person can act on.

Why one root class: the CLI, a server and a web page all want to show a refusal ("approval
needs a second person", "pack.yaml:12: flows.company.3.when: unknown variable") and stop,
while real bugs still surface as tracebacks; catching :class:`StrategyError` draws that line.
"""

from __future__ import annotations


class StrategyError(Exception):
    """A strategy-store operation was refused; ``str(error)`` says why, for a person."""


class InvalidReference(StrategyError, ValueError):
    """A pack name, ``name@version`` reference or user id is malformed."""


class PackRefused(StrategyError, ValueError):
    """A submitted pack does not load; the message lists every ``file:line`` problem."""


class StrategyNotFound(StrategyError, LookupError):
    """No pack version matches the reference."""


class TransitionRefused(StrategyError):
    """A life-cycle step is not allowed from the version's state or by this person."""


class TamperedPack(StrategyError):
    """A stored pack no longer loads to the content hash recorded when it was submitted."""
