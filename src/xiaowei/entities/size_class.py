"""Enterprise size class (大型/中型/小型/微型) under 工信部联企业〔2011〕300号.

Why it matters here: whether a borrower is 小型 or 微型 decides whether its loan counts as an
inclusive small-micro loan (普惠型小微贷款), which the bank reports to the regulator and is
measured on (两增两控). The thresholds and the industry mapping are data
(``data/sme_size_2011.yaml``) because the rule is periodically revised and partly uncertain;
this module only applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from xiaowei.entities.datafiles import (
    DataFileError,
    LoadedYaml,
    packaged_text,
    parse_yaml,
    validate_loaded,
)
from xiaowei.entities.industry import divisions_in, section_of, validate_industry
from xiaowei.entities.labels import LabelledStrEnum
from xiaowei.entities.money import MoneyInput, to_decimal

DATA_FILE = "sme_size_2011.yaml"

Indicator = Literal["employees", "revenue", "assets"]
_ARGUMENT = {"employees": "employees", "revenue": "revenue_wan", "assets": "assets_wan"}
_INDICATOR_ZH = {
    "employees": "从业人员, 人",
    "revenue": "营业收入, 万元",
    "assets": "资产总额, 万元",
}


class SizeClass(LabelledStrEnum):
    """Size class, largest first."""

    LARGE = "large", "大型", "large"
    MEDIUM = "medium", "中型", "medium"
    SMALL = "small", "小型", "small"
    MICRO = "micro", "微型", "micro"


_Bounds = dict[Indicator, int]


class _GroupEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str
    large: _Bounds = Field(min_length=1)
    medium: _Bounds = Field(min_length=1)
    small: _Bounds = Field(min_length=1)


class _MappingEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    codes: list[str] = Field(min_length=1)
    group: str
    check: bool = False
    note: str = ""


class _NotCoveredEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    codes: list[str] = Field(min_length=1)
    reason: str
    check: bool = False


class _SizeFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    regulation: str
    mapping_basis: str
    default_group: str
    groups: dict[str, _GroupEntry] = Field(min_length=1)
    mapping: list[_MappingEntry]
    not_covered: list[_NotCoveredEntry] = []


@dataclass(frozen=True, slots=True)
class SizeGroup:
    """One industry group of the rule and the lower bounds of its large/medium/small classes."""

    name: str
    en: str
    bounds: dict[SizeClass, dict[Indicator, Decimal]]

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """The indicators this group is judged on, e.g. ('employees', 'revenue')."""
        return tuple(self.bounds[SizeClass.SMALL])


@dataclass(frozen=True)
class SizeRule:
    """The whole rule: groups, and which industry code falls in which (or in none)."""

    groups: dict[str, SizeGroup]
    by_code: dict[str, str]
    not_covered: dict[str, str]
    default_group: str


def _fail(loaded: LoadedYaml, path: tuple[str | int, ...], problem: str) -> DataFileError:
    key = ".".join(str(p) for p in path)
    return DataFileError(loaded.file, [(loaded.line_of(path), key, problem)])


def _build_group(loaded: LoadedYaml, name: str, entry: _GroupEntry) -> SizeGroup:
    """Check one group: same indicators in each class, bounds falling from large to small."""
    indicators = set(entry.small)
    bounds: dict[SizeClass, dict[Indicator, Decimal]] = {}
    for cls in (SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL):
        row: dict[Indicator, int] = getattr(entry, cls.value)
        if set(row) != indicators:
            raise _fail(loaded, ("groups", name, cls.value), "indicators differ from 'small'")
        bounds[cls] = {k: Decimal(v) for k, v in row.items()}
    for indicator in indicators:
        large, medium, small = (bounds[c][indicator] for c in list(bounds))
        if not large >= medium >= small >= 0:
            problem = f"{indicator} bounds must fall from large to small"
            raise _fail(loaded, ("groups", name, "large", indicator), problem)
    return SizeGroup(name, entry.en, bounds)


def build_rule(text: str, file: str = DATA_FILE) -> SizeRule:
    """Parse and check a size-rule data file's text (exposed so tests can feed bad files)."""
    loaded = parse_yaml(text, file)
    parsed = validate_loaded(_SizeFile, loaded)
    groups = {name: _build_group(loaded, name, g) for name, g in parsed.groups.items()}
    if parsed.default_group not in groups:
        raise _fail(loaded, ("default_group",), f"unknown group {parsed.default_group!r}")
    by_code: dict[str, str] = {}
    not_covered: dict[str, str] = {}
    entries: list[tuple[str, int, list[str], str]] = [
        ("mapping", i, e.codes, e.group) for i, e in enumerate(parsed.mapping)
    ] + [("not_covered", i, e.codes, e.reason) for i, e in enumerate(parsed.not_covered)]
    for section, index, codes, target in entries:
        if section == "mapping" and target not in groups:
            raise _fail(loaded, (section, index, "group"), f"unknown group {target!r}")
        for position, raw in enumerate(codes):
            try:
                code = validate_industry(raw, field="code")
            except ValueError as exc:
                raise _fail(loaded, (section, index, "codes", position), str(exc)) from None
            if len(code) > 3:
                problem = f"{code}: give a section, division or 3-digit group, not a class"
                raise _fail(loaded, (section, index, "codes", position), problem)
            if code in by_code or code in not_covered:
                raise _fail(loaded, (section, index, "codes", position), f"{code} listed twice")
            (by_code if section == "mapping" else not_covered)[code] = target
    return SizeRule(groups, by_code, not_covered, parsed.default_group)


@cache
def size_rule() -> SizeRule:
    """The packaged rule, loaded and checked once."""
    return build_rule(packaged_text(DATA_FILE))


def _lookup(rule: SizeRule, code: str) -> str:
    """Group (or not-covered reason, prefixed '!') of a canonical code, most specific first."""
    if code.isalpha():
        keys = [code]
    else:
        keys = [code[:3]] if len(code) >= 3 else []
        keys += [code[:2], section_of(code[:2])]
    for key in keys:
        if key in rule.not_covered:
            return "!" + rule.not_covered[key]
        if key in rule.by_code:
            return rule.by_code[key]
    return rule.default_group


_TOO_COARSE = "?"


def _finer_groups(rule: SizeRule, division: str) -> set[str]:
    return {target for key, target in rule.by_code.items() if len(key) == 3 and key[:2] == division}


def _reachable_groups(rule: SizeRule, code: str) -> set[str]:
    """Groups a section or division can land in; more than one means the code is too coarse.

    A division with its own entry (59 → 仓储业) means that group even if a finer code under it
    is mapped elsewhere (591 → 交通运输业); a division without one whose group codes are mapped
    (70 → 701, 702, …) has no group of its own.
    """
    if code.isalpha():
        found: set[str] = set()
        for division in divisions_in(code):
            found |= _reachable_groups(rule, division) | _finer_groups(rule, division)
        return found
    finer = _finer_groups(rule, code)
    if finer and code not in rule.by_code and code not in rule.not_covered:
        return finer | {_TOO_COARSE}
    return {_lookup(rule, code)}


def size_group_of(industry_code: str) -> SizeGroup:
    """The rule's industry group for a GB/T 4754 code.

    A code too coarse to decide (section G spans five groups; division 70 splits into 房地产开发
    经营, 物业管理 and others by group code) raises ValueError asking for a finer code; a code
    the rule does not cover (金融业) raises ValueError saying which rule applies instead.
    """
    rule = size_rule()
    code = validate_industry(industry_code)
    if len(code) <= 2:
        reachable = _reachable_groups(rule, code)
        if len(reachable) > 1:
            named = ", ".join(sorted(reachable - {_TOO_COARSE}))
            raise ValueError(
                f"industry_code {code} spans several size groups ({named}); give a finer "
                "code: a division, or a group code where a division is split (701, 702 …)"
            )
        found = reachable.pop()
    else:
        found = _lookup(rule, code)
    if found.startswith("!"):
        raise ValueError(f"industry_code {code}: not classified by this rule ({found[1:]})")
    return rule.groups[found]


def _indicator_value(name: Indicator, value: object) -> Decimal:
    argument = _ARGUMENT[name]
    if name == "employees":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"employees must be an int, not {type(value).__name__}")
        number = Decimal(value)
    else:
        number = to_decimal(value, argument)  # type: ignore[arg-type]
    if number < 0:
        raise ValueError(f"{argument} must not be negative, got {number}")
    return number


def classify_size(
    industry_code: str,
    employees: int | None = None,
    revenue_wan: MoneyInput | None = None,
    assets_wan: MoneyInput | None = None,
) -> SizeClass:
    """Size class of an enterprise from its industry and the indicators its group uses.

    ``revenue_wan`` and ``assets_wan`` are in 万元 (Decimal, int or str; never float). Each of
    large, medium and small needs every indicator at or above its lower bound ("及以上");
    otherwise the firm drops a class, down to micro. A missing indicator that the group needs
    is a ValueError naming it; indicators the group does not use are ignored.
    """
    group = size_group_of(industry_code)
    given = {"employees": employees, "revenue": revenue_wan, "assets": assets_wan}
    values: dict[Indicator, Decimal] = {}
    for name in group.indicators:
        raw = given[name]
        if raw is None:
            raise ValueError(
                f"{_ARGUMENT[name]} ({_INDICATOR_ZH[name]}) is required: size group "
                f"{group.name} is judged on {', '.join(_ARGUMENT[i] for i in group.indicators)}"
            )
        values[name] = _indicator_value(name, raw)
    for cls in (SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL):
        if all(values[i] >= bound for i, bound in group.bounds[cls].items()):
            return cls
    return SizeClass.MICRO
