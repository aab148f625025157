"""Roles and their permissions, read from ``roles.yaml`` — the permission matrix as data.

Why data: which role may see whose customers is a decision of the bank's risk and compliance
people, reviewed in a diff, not hidden in ``if`` statements. The loader refuses what would
silently weaken the matrix: an unknown permission (a typo grants nothing and hides the
intent), an unknown key, a "read-only" role holding a permission that changes something. Every
error names the file and line (:mod:`xiaowei.entities.datafiles`).

A permission is ``resource:action`` or ``resource:action:scope``; the scope (``own``,
``branch``, ``all``) says which rows the role sees (:mod:`xiaowei.security.principal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from xiaowei.entities.datafiles import DataFileError, parse_yaml, validate_loaded

DEFAULT_FILE = "roles.yaml"
SCOPES = ("own", "branch", "all")  # narrowest first
READ_ACTIONS = ("read",)


class RoleError(ValueError):
    """An unknown role, or a user whose branch or manager link does not fit the role."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class RoleSpec(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    branch: Literal["required", "optional"] = "optional"
    manager: Literal["required", "none"] = "none"
    read_only: bool = False
    authority_yuan: Decimal | None = Field(default=None, ge=0)
    permissions: list[str] = Field(min_length=1)


class RolesFile(_Strict):
    version: int = Field(ge=1)
    permissions: dict[str, Label] = Field(min_length=1)
    roles: dict[str, RoleSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Role:
    """One role as the code uses it."""

    name: str
    zh: str
    en: str
    needs_branch: bool
    needs_manager: bool
    read_only: bool
    permissions: frozenset[str]
    authority_yuan: Decimal | None = None  # the largest approval the role may make; None: none


@dataclass(frozen=True)
class RoleBook:
    """Every role and the permission vocabulary of one ``roles.yaml``."""

    version: int
    roles: dict[str, Role]
    vocabulary: dict[str, Label]

    def role(self, name: str) -> Role:
        """The role called ``name``; :class:`RoleError` listing the known ones otherwise."""
        found = self.roles.get(name)
        if found is None:
            raise RoleError(f"unknown role {name!r}; known roles: {', '.join(self.roles)}")
        return found

    def check_scopes(self, scopes: list[str]) -> list[str]:
        """Token scopes, each ``*``, a permission or a prefix of one (``customers``)."""
        for scope in scopes:
            if scope != "*" and not any(grants(scope, p) for p in self.vocabulary):
                raise RoleError(f"unknown scope {scope!r}: use '*', a permission such as "
                                "'customers:read' or a resource such as 'applications'")
        return scopes


def grants(scope: str, permission: str) -> bool:
    """Whether a token scope covers ``permission``: ``*``, the permission itself, or a prefix
    ending at a ``:`` (``customers`` and ``customers:read`` both cover ``customers:read:own``)."""
    return scope == "*" or permission == scope or permission.startswith(scope + ":")


def _problems(spec: RolesFile) -> list[tuple[tuple[str | int, ...], str]]:
    found: list[tuple[tuple[str | int, ...], str]] = []
    for permission in spec.permissions:
        parts = permission.split(":")
        if len(parts) not in (2, 3) or not all(parts) or (
                len(parts) == 3 and parts[2] not in SCOPES):
            found.append((("permissions", permission),
                          f"{permission!r} is not RESOURCE:ACTION or RESOURCE:ACTION:"
                          f"{'|'.join(SCOPES)}"))
    for role, body in spec.roles.items():
        for i, permission in enumerate(body.permissions):
            where = ("roles", role, "permissions", i)
            if permission not in spec.permissions:
                found.append((where, f"unknown permission {permission!r} (declare it under "
                                     "'permissions' first)"))
            elif body.read_only and permission.split(":")[1] not in READ_ACTIONS:
                found.append((where, f"{permission!r} changes something, but role {role!r} "
                                     "is read_only"))
        if len(set(body.permissions)) != len(body.permissions):
            found.append((("roles", role, "permissions"), "a permission is listed twice"))
    return found


def load_roles(path: Path | str | None = None) -> RoleBook:
    """The packaged ``roles.yaml``, or an edited copy at ``path``; :class:`DataFileError`
    (``file:line: key: problem``) when anything is wrong."""
    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_FILE).read_text("utf-8")
        name = DEFAULT_FILE
    else:
        text, name = Path(path).read_text("utf-8"), Path(path).name
    loaded = parse_yaml(text, name)
    spec = validate_loaded(RolesFile, loaded)
    problems = _problems(spec)
    if problems:
        raise DataFileError(name, [(loaded.line_of(where), ".".join(map(str, where)), message)
                                   for where, message in problems])
    roles = {n: Role(n, r.zh, r.en, r.branch == "required", r.manager == "required",
                     r.read_only, frozenset(r.permissions), r.authority_yuan)
             for n, r in spec.roles.items()}
    return RoleBook(spec.version, roles, dict(spec.permissions))


@cache
def default_roles() -> RoleBook:
    """The packaged matrix, read once per process."""
    return load_roles()
