"""The permission matrix as data: the shipped file loads, mistakes name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from xiaowei.entities.datafiles import DataFileError
from xiaowei.security.principal import Principal
from xiaowei.security.roles import RoleError, default_roles, grants, load_roles

GOOD = """\
version: 1
permissions:
  customers:read:own: {zh: 名下客户, en: own customers}
  audit:read: {zh: 审计, en: audit}
  users:manage: {zh: 用户, en: users}
roles:
  auditor:
    zh: 审计员
    en: auditor
    read_only: true
    permissions: [audit:read]
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roles.yaml"
    path.write_text(text, "utf-8")
    return path


def test_the_shipped_matrix_has_the_eight_roles() -> None:
    roles = default_roles()
    assert set(roles.roles) == {"customer_manager", "approver", "senior_approver",
                                "risk_analyst", "supervisor", "auditor", "admin", "monitoring"}
    assert roles.role("monitoring").read_only
    assert roles.role("monitoring").permissions == frozenset({"ops:read"})
    assert roles.role("customer_manager").needs_manager
    assert roles.role("approver").needs_branch
    assert roles.role("auditor").read_only
    assert "pii:view" not in roles.role("risk_analyst").permissions
    assert "review:decide" in roles.role("approver").permissions
    with pytest.raises(RoleError, match="unknown role 'boss'"):
        roles.role("boss")


def test_an_edited_copy_loads(tmp_path: Path) -> None:
    assert set(load_roles(_file(tmp_path, GOOD)).roles) == {"auditor"}


def test_unknown_permission_names_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("permissions: [audit:read]", "permissions:\n      - audit:reed")
    with pytest.raises(DataFileError) as caught:
        load_roles(_file(tmp_path, text))
    assert "roles.yaml:12: roles.auditor.permissions.0: unknown permission 'audit:reed'" \
        in str(caught.value)


def test_read_only_role_cannot_hold_a_write_permission(tmp_path: Path) -> None:
    text = GOOD.replace("[audit:read]", "[audit:read, users:manage]")
    with pytest.raises(DataFileError, match=r"roles.yaml:11: .*'users:manage' changes"):
        load_roles(_file(tmp_path, text))


def test_unknown_key_and_bad_scope_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"roles.yaml:10: roles.auditor.en_gb: Extra inputs"):
        load_roles(_file(tmp_path, GOOD.replace("    en: auditor\n",
                                                "    en: auditor\n    en_gb: x\n")))
    with pytest.raises(DataFileError, match="RESOURCE:ACTION"):
        load_roles(_file(tmp_path, GOOD.replace("customers:read:own:", "customers:read:mine:")))


def test_token_scopes_narrow_never_widen() -> None:
    assert grants("customers", "customers:read:own") and grants("*", "audit:read")
    assert not grants("customers:re", "customers:read:own")
    roles = default_roles()

    class U:
        user_id, name, role, branch_id, manager_id = "U1", "li", "approver", "B1", None

    narrowed = Principal.of(U(), scopes=["customers", "audit"])  # type: ignore[arg-type]
    assert narrowed.scope("customers") == "branch"
    assert not narrowed.has("review:decide") and not narrowed.has("audit:read")
    with pytest.raises(RoleError, match="unknown scope 'custmers'"):
        roles.check_scopes(["custmers"])
