"""The workbench's two languages: Chinese first (zh-CN), English by the switch.

Why Babel catalogues read at start-up: translators edit ``.po`` files (the bank's translation
process speaks gettext), and reading them with Babel's ``read_po`` needs no compile step in the
build. Templates mark text with ``_("…")``; ``messages.pot`` is what ``pybabel extract`` finds.
The language lives in a cookie the switch sets, so it follows the person, not the URL.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request

LANG_COOKIE = "xw_lang"
LANGUAGES = ("zh_CN", "en")
DEFAULT = "zh_CN"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
FOLDER = Path(__file__).parent / "i18n"


@cache
def translations(lang: str) -> Translations:
    """The compiled catalogue of ``lang`` (``zh_CN`` or ``en``), read once."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {lang!r}")
    with (FOLDER / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    return Translations(buffer)


def language(request: Request) -> str:
    """The language the person chose (cookie), else Chinese."""
    chosen = request.cookies.get(LANG_COOKIE, DEFAULT)
    return chosen if chosen in LANGUAGES else DEFAULT


def pick(lang: str, zh: object, en: object) -> str:
    """Domain text that carries both languages (reasons, tag labels): the person's first."""
    first, second = (zh, en) if lang == "zh_CN" else (en, zh)
    return str(first if first not in (None, "") else second or "")


def N_(message: str) -> str:
    """Marks a word for the catalogue that reaches the pages as data (a status, a product)."""
    return message


# Codes shown to people through ``_(code)`` in the templates: each needs a catalogue entry.
DATA_WORDS = (
    N_("in_review"), N_("approved"), N_("rejected"), N_("in_dd"), N_("decided"),
    N_("approve"), N_("reject"), N_("review"), N_("automatic"), N_("human"),
    N_("human_assisted"), N_("none"), N_("light"), N_("standard"), N_("deep"),
    N_("open"), N_("acknowledged"), N_("in_progress"), N_("done"), N_("escalated"),
    N_("cancelled"), N_("claim"), N_("start"), N_("complete"), N_("confirm"), N_("refuse"),
    N_("create"), N_("release"), N_("cancel"), N_("escalate"), N_("submitted"),
    N_("checked_in"), N_("publish"),
    N_("manual_review"), N_("due_diligence_visit"), N_("inspection"), N_("collection"),
    N_("maintenance_visit"), N_("supervisor_review"),
    N_("enterprise"), N_("individual_business"), N_("business_owner"),
    N_("working_capital"), N_("credit_line"), N_("tax_loan"), N_("invoice_loan"),
    N_("guaranteed"), N_("mortgage_backed"), N_("supply_chain_finance"),
    N_("manager_referral"), N_("walk_in"), N_("online"), N_("supply_chain"), N_("renewal"),
    N_("active"), N_("overdue"), N_("settled"), N_("draft"), N_("live"), N_("retired"),
    N_("fact"), N_("risk"), N_("business"), N_("other"),
    N_("photo"), N_("document"), N_("note"), N_("ok"), N_("adverse"),
)
