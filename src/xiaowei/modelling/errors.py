"""The errors the model registry raises, each with a message a person can act on.

Why a family rooted in one class: the CLI, the API and a strategy loader all want to show a
refusal ("approval needs a second person", "artifact changed since registration") to a person
and stop, while letting real bugs surface as tracebacks; catching :class:`RegistryError`
draws exactly that line.
"""

from __future__ import annotations


class RegistryError(Exception):
    """A registry operation was refused; ``str(error)`` says why, for a person."""


class ManifestError(RegistryError, ValueError):
    """A model directory or its ``model.json`` is not what the registry accepts."""


class InvalidReference(RegistryError, ValueError):
    """A model name, ``name@version`` reference or user id is malformed."""


class ModelNotFound(RegistryError, LookupError):
    """No model version matches the reference."""


class TransitionRefused(RegistryError):
    """A life-cycle step is not allowed from the version's current state or by this person."""


class NotForProduction(RegistryError):
    """A draft or retired version was asked for where only an approved one may be used."""


class TamperedArtifact(RegistryError):
    """A stored artifact's files no longer match the content hash taken at registration."""
