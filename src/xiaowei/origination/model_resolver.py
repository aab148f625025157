"""The strategy engine's ``ModelResolver`` over the bank's model registry and workbench.

Why an adapter here and not in the engine: the engine must not import a registry or do I/O
(it only asks ``resolve(ref) -> callable(variables) -> float``), and the registry must not know
strategies. Origination is where a pack's ``models: {app_score: app_score@approved}`` meets the
registry (``name@version`` → verified directory) and the workbench (directory → fitted model).

Production refuses drafts: :meth:`ModelRegistry.resolve` raises ``NotForProduction`` for a
draft or retired version unless ``allow_draft=True`` (backtests only).

Overrides (``{alias_or_name: model_dir}``) are the clearly named escape hatch for tests and the
demo, where nothing is registered: the pack still names a registry reference — a pack may never
point at a directory, or its hash would not say which model decided — and the override is
recorded in :attr:`RegistryModelResolver.resolved` as ``dir:<path>`` so the output shows it.

The callable maps the case's variables to the model's features by name: feature ``f`` is read
from ``f``, else ``tag.f``, else ``app.f`` (so a scorecard fitted on tag columns needs no
renaming). It returns the model's PD (probability of bad), which the pack grades.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from xiaowei.modelling.workbench import FittedModel, load

PREFIXES = ("", "tag.", "app.")


def model_function(fitted: FittedModel) -> Callable[[Mapping[str, Any]], float]:
    """A callable giving the PD of one case's variables (missing features are null)."""
    features = fitted.features
    categorical = set(fitted.manifest.get("categorical") or ())

    def value(variables: Mapping[str, Any], feature: str) -> Any:
        for prefix in PREFIXES:
            if prefix + feature in variables:
                found = variables[prefix + feature]
                if isinstance(found, Decimal):
                    return float(found)
                if isinstance(found, bool):
                    return float(found)
                return found
        return None

    def score(variables: Mapping[str, Any]) -> float:
        columns = {}
        for f in features:
            v = value(variables, f)
            if f in categorical:
                columns[f] = pa.array([None if v is None else str(v)], pa.string())
            else:
                num = None if v is None or isinstance(v, str) else float(v)
                columns[f] = pa.array([num], pa.float64())
        pd = float(fitted.model.predict_proba(pa.table(columns))[0, 1])
        if not math.isfinite(pd):
            raise ValueError(f"model gave a non-finite PD {pd}")
        return pd

    return score


class RegistryModelResolver:
    """``resolve("name@version")`` → PD callable, through the registry (or an override dir).

    ``registry`` is a :class:`~xiaowei.modelling.registry.ModelRegistry` or None (then every
    alias the pack uses must be overridden). ``overrides`` maps a pack alias *or* a model name
    to a model directory. ``resolved`` records, per reference, what was actually loaded.
    """

    def __init__(self, registry: Any | None = None, *, allow_draft: bool = False,
                 overrides: Mapping[str, str | Path] | None = None,
                 aliases: Mapping[str, str] | None = None) -> None:
        self.registry = registry
        self.allow_draft = allow_draft
        self.overrides = {k: Path(v) for k, v in (overrides or {}).items()}
        self.aliases = dict(aliases or {})  # ref → alias, so an override by alias applies
        self.resolved: dict[str, str] = {}

    def _directory(self, ref: str) -> Path:
        name = ref.split("@", 1)[0]
        for key in (self.aliases.get(ref), ref, name):
            if key is not None and key in self.overrides:
                self.resolved[ref] = f"dir:{self.overrides[key]}"
                return self.overrides[key]
        if self.registry is None:
            raise LookupError(f"model {ref!r}: no registry and no --model-dir override for it")
        found = self.registry.resolve(ref, allow_draft=self.allow_draft)
        self.resolved[ref] = found.record.ref
        return Path(found.path)

    def resolve(self, ref: str) -> Callable[[Mapping[str, Any]], float]:
        """Load the model behind ``ref`` once; the callable it returns scores in-process."""
        return model_function(load(self._directory(ref)))


__all__ = ["RegistryModelResolver", "model_function"]
