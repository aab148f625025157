"""Modelling around the model engine: the registry of trained, approved model versions.

Why a package apart from :mod:`xiaowei.engine.models`: the engine turns tables into scores and
never touches a store; registering a trained model, having a second person approve it, and
handing strategies exactly the approved files is about people, audit and storage, so it
lives here, above the engine and beside the stores it uses.

Strategies pin a model as ``name@N`` (exactly version N) or ``name@approved`` / ``name`` (the
newest approved version) and load it with :meth:`ModelRegistry.resolve`.
"""

from xiaowei.modelling.errors import (
    InvalidReference,
    ManifestError,
    ModelNotFound,
    NotForProduction,
    RegistryError,
    TamperedArtifact,
    TransitionRefused,
)
from xiaowei.modelling.lifecycle import TRANSITIONS, ModelStatus, can_transition
from xiaowei.modelling.manifest import MANIFEST, ModelManifest, read_manifest
from xiaowei.modelling.reference import ModelRef, validate_name
from xiaowei.modelling.registry import (
    LifecycleEvent,
    ModelRecord,
    ModelRegistry,
    Registration,
    ResolvedModel,
    open_registry,
)

__all__ = [
    "MANIFEST",
    "TRANSITIONS",
    "InvalidReference",
    "LifecycleEvent",
    "ManifestError",
    "ModelManifest",
    "ModelNotFound",
    "ModelRecord",
    "ModelRef",
    "ModelRegistry",
    "ModelStatus",
    "NotForProduction",
    "Registration",
    "RegistryError",
    "ResolvedModel",
    "TamperedArtifact",
    "TransitionRefused",
    "can_transition",
    "open_registry",
    "read_manifest",
    "validate_name",
]
