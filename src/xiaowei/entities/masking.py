"""Masking of personal data for pages, logs and error messages.

Why here, in the foundation: JR/T 0171-2020 puts ID numbers and phone numbers in class C2, to
be masked wherever they are shown (e.g. ``110105********002X``, ``138****5678``). Every layer
above (error messages, audit logs, web pages) must mask the same way, so the rules live once.

Each function is None-safe (``None`` in, ``None`` out) because optional fields are common and a
masking call must never be the thing that crashes an error path. A rule never reveals more than
it hides: when a value is too short for the usual "keep the ends" rule, every character becomes
a star (the length is kept, so the reader still sees roughly what kind of value it was).
"""

from __future__ import annotations

from typing import overload

STAR = "*"

# Characters that mark a name as an organisation's rather than a person's. Chinese personal
# names are 2-4 characters; organisation names end in one of these (or are long).
_ORGANISATION_SUFFIXES = (
    "公司",
    "厂",
    "店",
    "社",
    "部",
    "行",
    "馆",
    "中心",
    "所",
    "场",
    "园",
    "室",
    "坊",
    "站",
    "院",
    "处",
    "铺",
    "档",
    "号",
)


def _keep_ends(text: str, head: int, tail: int, *, min_hidden: int) -> str:
    """Keep ``head`` and ``tail`` characters when at least ``min_hidden`` stay hidden."""
    hidden = len(text) - head - tail
    if hidden < min_hidden:
        return STAR * len(text)
    return text[:head] + STAR * hidden + text[len(text) - tail :]


@overload
def mask_id_number(value: str) -> str: ...
@overload
def mask_id_number(value: None) -> None: ...
def mask_id_number(value: str | None) -> str | None:
    """Mask a resident ID number: first 3 and last 4 shown (``330***********1234``).

    At least half of the characters stay hidden, so a short or truncated input (a typo, a
    15-digit first-generation number cut short) is starred completely.
    """
    if value is None:
        return None
    return _keep_ends(value, 3, 4, min_hidden=(len(value) + 1) // 2)


@overload
def mask_uscc(value: str) -> str: ...
@overload
def mask_uscc(value: None) -> None: ...
def mask_uscc(value: str | None) -> str | None:
    """Mask a unified social credit code: first 4 and last 4 shown (``9133**********123X``).

    A company's code is public on its licence, but a 个体工商户's code identifies a person's
    business, so the bank masks both alike.
    """
    if value is None:
        return None
    return _keep_ends(value, 4, 4, min_hidden=(len(value) + 1) // 2)


_PHONE_PREFIXES = ("+86", "0086")


@overload
def mask_phone(value: str) -> str: ...
@overload
def mask_phone(value: None) -> None: ...
def mask_phone(value: str | None) -> str | None:
    """Mask a phone number: ``138****5678``; ``+86138****5678`` keeps its country prefix.

    The country prefix is not secret and is kept so a reader can tell the forms apart.
    Separators are dropped first so that ``138 1234 5678`` masks like ``13812345678``. The last
    four digits are what staff use to confirm a number with a customer, so those stay visible.
    """
    if value is None:
        return None
    compact = "".join(ch for ch in value if ch not in " -()\u3000")
    prefix = ""
    for candidate in _PHONE_PREFIXES:
        if compact.startswith(candidate):
            prefix, compact = candidate, compact[len(candidate) :]
            break
    return prefix + _keep_ends(compact, 3, 4, min_hidden=4)


_NAME_DOTS = ("·", "•", "・")


def _looks_like_organisation(name: str) -> bool:
    # Transliterated minority names (买买提·艾力) are long but personal; the dot gives them away.
    if any(dot in name for dot in _NAME_DOTS):
        return False
    return len(name) > 6 or name.endswith(_ORGANISATION_SUFFIXES)


def _mask_person_name(name: str) -> str:
    if len(name) <= 1:
        return STAR * len(name)
    if len(name) == 2:
        return name[0] + STAR
    return name[0] + STAR * (len(name) - 2) + name[-1]


def _mask_organisation_name(name: str) -> str:
    # Keep the first 2 (usually the city) and last 4 (usually 有限公司): enough to recognise
    # the kind of business, not which one. Shorter names give up tail, then head characters.
    head, tail = 2, 4
    while head + tail + 2 > len(name) and tail > 1:
        tail -= 1
    while head + tail + 2 > len(name) and head > 1:
        head -= 1
    if head + tail + 1 > len(name):
        return _mask_person_name(name)
    return _keep_ends(name, head, tail, min_hidden=1)


@overload
def mask_name(value: str) -> str: ...
@overload
def mask_name(value: None) -> None: ...
def mask_name(value: str | None) -> str | None:
    """Mask a person's or an organisation's name.

    People: 张三 → 张*, 张三丰 → 张*丰, 欧阳娜娜 → 欧**娜 (surname and last character kept, as
    Chinese banks print them). Organisations (long names, or names ending in 公司/厂/店 …):
    first 2 and last 4 characters, e.g. 杭州西湖龙井茶业有限公司 → 杭州******有限公司.
    """
    if value is None:
        return None
    name = value.strip()
    if _looks_like_organisation(name):
        return _mask_organisation_name(name)
    return _mask_person_name(name)


@overload
def mask_value(value: None) -> None: ...
@overload
def mask_value(value: object) -> str: ...
def mask_value(value: object) -> str | None:
    """Mask any value for an error message, when we cannot know whether it is personal data.

    Error messages travel to logs and screens; a value typed into the wrong field (an ID number
    pasted into a name box) must not leak through them. At most a fifth of the characters show
    at each end, and values of four characters or fewer are starred completely.
    """
    if value is None:
        return None
    text = str(value)
    keep = min(4, len(text) // 5)
    if keep == 0:
        return STAR * len(text)
    return _keep_ends(text, keep, keep, min_hidden=1)
