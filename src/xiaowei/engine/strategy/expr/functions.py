"""Functions a rule may call: a whitelisted built-in set plus a registry for reviewed plugins.

Why a registry and not free calls: a rule can only call what a programmer registered in code
and a reviewer approved, with a declared signature, so the type checker can refuse a wrong call
at load. Rule text can never name a Python object.

Signatures are written ``"(number, number?) -> number"``: parameter types are ``number``,
``decimal``, ``string``, ``bool``, ``date``, ``list``, a union ``string|list``, or a type
variable — ``T`` (any one type) or ``N`` (one numeric type) — shared by all its uses; ``?``
marks an optional parameter, ``...`` a repeated last one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

TYPES = frozenset({"number", "decimal", "string", "bool", "date", "list"})
NUMERIC = frozenset({"number", "decimal"})
_SIG = re.compile(r"^\(\s*(?P<params>[^)]*)\)\s*->\s*(?P<returns>[\w\[\]|]+)\s*$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Signature:
    """Parameter types, how many are required, whether the last repeats, the result type."""

    params: tuple[str, ...]
    returns: str
    required: int
    variadic: bool = False

    @classmethod
    def parse(cls, text: str) -> Signature:
        """``"(N, number?) -> N"`` → Signature; refuses unknown types and misplaced marks."""
        m = _SIG.match(text)
        if m is None:
            raise ValueError(f"signature {text!r} is not of the form '(type, ...) -> type'")
        raw = [p.strip() for p in m["params"].split(",")] if m["params"].strip() else []
        params: list[str] = []
        required, variadic, optional = 0, False, False
        for i, p in enumerate(raw):
            if p.endswith("..."):
                if i != len(raw) - 1:
                    raise ValueError(f"signature {text!r}: only the last parameter may repeat")
                variadic, p = True, p[:-3].strip()
            if p.endswith("?"):
                optional, p = True, p[:-1].strip()
            elif optional:
                raise ValueError(f"signature {text!r}: a required parameter follows an optional")
            else:
                required = i + 1
            _check_type(p, text)
            params.append(p)
        _check_type(m["returns"], text)
        return cls(tuple(params), m["returns"], required, variadic)


def _check_type(spec: str, text: str) -> None:
    for part in spec.split("|"):
        if part not in TYPES and part not in ("T", "N") and not _is_list_of(part):
            raise ValueError(f"signature {text!r}: unknown type {part!r}")


def _is_list_of(spec: str) -> bool:
    return spec.startswith("list[") and spec.endswith("]") and spec[5:-1] in TYPES


@dataclass(frozen=True)
class Function:
    """A callable rule function. ``null_in_null_out``: a null argument gives null, uncalled."""

    name: str
    fn: Callable[..., Any]
    signature: Signature
    null_in_null_out: bool = True


class FunctionRegistry:
    """Name → :class:`Function`. Built-ins cannot be replaced; a name is registered once."""

    def __init__(self, functions: dict[str, Function] | None = None) -> None:
        self._functions: dict[str, Function] = dict(functions or {})

    def register(
        self,
        name: str,
        fn: Callable[..., Any],
        signature: str | Signature,
        *,
        null_in_null_out: bool = True,
    ) -> Function:
        """Add reviewed Python code under ``name``; refuses clashes and bad signatures."""
        if not _NAME.match(name) or name in ("and", "or", "not", "in", "is", "null", "true",
                                             "false"):
            raise ValueError(f"function name {name!r} must be a lower-case identifier")
        if not callable(fn):
            raise TypeError(f"function {name!r}: {fn!r} is not callable")
        sig = signature if isinstance(signature, Signature) else Signature.parse(signature)
        old = self._functions.get(name)
        if old is not None and (name in BUILTINS._functions or old.fn is not fn):
            raise ValueError(f"function {name!r} is already registered")
        func = Function(name, fn, sig, null_in_null_out)
        self._functions[name] = func
        return func

    def get(self, name: str) -> Function | None:
        return self._functions.get(name)

    def names(self) -> list[str]:
        return sorted(self._functions)

    def copy(self) -> FunctionRegistry:
        """An independent registry with the same functions (for tests and sandboxes)."""
        return FunctionRegistry(self._functions)


def _min(*args: Any) -> Any:
    present = [a for a in args if a is not None]
    return min(present) if present else None


def _max(*args: Any) -> Any:
    present = [a for a in args if a is not None]
    return max(present) if present else None


def _coalesce(*args: Any) -> Any:
    for a in args:
        if a is not None:
            return a
    return None


def _round(x: Any, digits: Any = 0) -> Any:
    """Half away from zero (the rounding people expect), not Python's half-to-even."""
    if digits is None:
        return None
    exp = Decimal(1).scaleb(-int(digits))
    if isinstance(x, Decimal):
        return x.quantize(exp, rounding=ROUND_HALF_UP)
    rounded = Decimal(repr(x)).quantize(exp, rounding=ROUND_HALF_UP)
    return int(rounded) if isinstance(x, int) and digits >= 0 else float(rounded)


def _days_between(start: date, end: date) -> int:
    return (end - start).days


def _add_days(day: date, days: Any) -> date:
    return day + timedelta(days=int(days))


BUILTINS = FunctionRegistry()
for _name, _fn, _sig, _strict in [
    ("min", _min, "(T, T...) -> T", False),
    ("max", _max, "(T, T...) -> T", False),
    ("coalesce", _coalesce, "(T, T...) -> T", False),
    ("abs", abs, "(N) -> N", True),
    ("round", _round, "(N, number?) -> N", True),
    ("days_between", _days_between, "(date, date) -> number", True),
    ("add_days", _add_days, "(date, number) -> date", True),
    ("len", len, "(string|list) -> number", True),
    ("lower", str.lower, "(string) -> string", True),
    ("upper", str.upper, "(string) -> string", True),
    ("date", date.fromisoformat, "(string) -> date", True),
]:
    BUILTINS._functions[_name] = Function(_name, _fn, Signature.parse(_sig), _strict)

DEFAULT_FUNCTIONS = BUILTINS.copy()


def register_function(
    name: str,
    fn: Callable[..., Any],
    signature: str | Signature,
    *,
    null_in_null_out: bool = True,
    registry: FunctionRegistry | None = None,
) -> Function:
    """Register reviewed code for rules compiled with the default registry (or ``registry``)."""
    return (registry or DEFAULT_FUNCTIONS).register(
        name, fn, signature, null_in_null_out=null_in_null_out
    )
