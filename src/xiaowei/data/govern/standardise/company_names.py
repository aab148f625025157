"""Company names in three forms: for display, for matching, and a blocking key.

- ``company_name_display``: ``clean_text`` with brackets in the registry's full-width form
  （）, as a licence prints it.
- ``company_name``: the matching form — the display form without spaces and with the suffix
  有限责任公司 written 有限公司, so the two spellings a firm is filed under compare equal.
  (股份有限公司 is a different legal form and stays as it is.)
- ``company_name_key``: a coarse key for blocking candidate pairs in entity resolution. From the
  matching form it strips (1) bracket characters, keeping their content (宁波（康隆）信息 →
  宁波康隆信息); (2) one legal-form suffix of ``LEGAL_FORMS`` at the end; (3) any run of
  leading place names — province names full or short (浙江省, 浙江), prefecture names full
  or, for cities, short (杭州市, 杭州; not 阿里 of 阿里地区, as in 阿里巴巴) and county names in
  full (西湖区; never short, 西湖 is also a trade name). What is left
  is the trade name and industry words: 杭州市西湖区康隆信息技术有限公司 → 康隆信息技术. A name
  that is nothing but place names keeps them. Keys are for blocking only: two firms may share
  one, and a city's short name that starts a trade name (中山) is stripped too.

All three are SQL macros over one regular expression built from the division table, so both
runtimes use the very same pattern.
"""

from __future__ import annotations

import re
from functools import cache

from xiaowei.data.govern.standardise.outcome import MISSING, Standardised, sql_text
from xiaowei.data.govern.standardise.places import places, short_name
from xiaowei.data.govern.standardise.text import clean_text

LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "有限合伙", "普通合伙")
_BRACKETS = str.maketrans("()", "（）")
_NO_BRACKETS = str.maketrans("", "", "（）")


def _trie_pattern(words: set[str]) -> str:
    """An alternation that prefers the longest word, written as a trie (fast in both engines).

    At every node the longer continuations come before stopping, so the leftmost-first
    engines (Python ``re``, RE2) both take the longest word that starts the text.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


@cache
def place_prefix_pattern() -> str:
    """Leading place names, one or more: the part ``company_name_key`` strips."""
    words: set[str] = set()
    for p in places():
        words.add(p.name)
        short = short_name(p.name, p.level)
        if short and (p.level == "province" or (p.level == "prefecture" and p.name[-1] == "市")):
            words.add(short)
    return f"^(?:{_trie_pattern(words)})+"


@cache
def _place_prefix() -> re.Pattern[str]:
    return re.compile(place_prefix_pattern())


LEGAL_FORM_PATTERN = "(?:" + "|".join(LEGAL_FORMS) + ")$"
_LEGAL_FORM = re.compile(LEGAL_FORM_PATTERN)


def company_name_display(value: str | None) -> Standardised[str]:
    """The name as a licence prints it: clean text, full-width brackets."""
    cleaned = clean_text(value)
    return Standardised(None if cleaned is None else cleaned.translate(_BRACKETS))


def company_name(value: str | None) -> Standardised[str]:
    """The matching form: display form, no spaces, 有限责任公司 written 有限公司."""
    display = company_name_display(value).value
    if display is None:
        return MISSING  # type: ignore[return-value]
    name = display.replace(" ", "")
    if name.endswith("有限责任公司") and not name.endswith("股份有限责任公司"):
        name = name[: -len("有限责任公司")] + "有限公司"
    return Standardised(name)


def company_name_key(value: str | None) -> Standardised[str]:
    """Trade name and industry words: no brackets, legal form or leading place names."""
    name = company_name(value).value
    if name is None:
        return MISSING  # type: ignore[return-value]
    core = _LEGAL_FORM.sub("", name.translate(_NO_BRACKETS))
    return Standardised(_place_prefix().sub("", core) or core or name)


def sql_macros() -> list[str]:
    """``std_company_name[_display|_key](s)`` → STRUCT(value VARCHAR, reason VARCHAR)."""
    ok = "'reason': NULL::VARCHAR"
    return [
        """CREATE OR REPLACE MACRO std_company_display_value(s) AS
            translate(std_clean_text(s), '()', '（）')""",
        """CREATE OR REPLACE MACRO std_company_name_value(s) AS list_transform(
            [replace(std_company_display_value(s), ' ', '')], lambda n: CASE
              WHEN n LIKE '%有限责任公司' AND n NOT LIKE '%股份有限责任公司'
              THEN n[1:-7] || '有限公司' ELSE n END)[1]""",
        f"""CREATE OR REPLACE MACRO std_company_key_value(s) AS list_transform(
            [list_transform([std_company_name_value(s)], lambda n: [n, regexp_replace(
                replace(replace(n, '（', ''), '）', ''), {sql_text(LEGAL_FORM_PATTERN)}, '')])[1]],
            lambda p: coalesce(nullif(regexp_replace(p[2], {sql_text(place_prefix_pattern())},
                ''), ''), nullif(p[2], ''), p[1]))[1]""",
        f"""CREATE OR REPLACE MACRO std_company_name_display(s) AS
            {{'value': std_company_display_value(s), {ok}}}""",
        f"""CREATE OR REPLACE MACRO std_company_name(s) AS
            {{'value': std_company_name_value(s), {ok}}}""",
        f"""CREATE OR REPLACE MACRO std_company_name_key(s) AS
            {{'value': std_company_key_value(s), {ok}}}""",
    ]
