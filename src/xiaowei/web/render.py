"""Rendering a page: the template environment, the navigation a role sees, number formats.

Why autoescape everywhere: every field on these pages came from an applicant, a file or a
person; Jinja escapes it unless a view hands over markup it built itself (the inline SVG from
:mod:`xiaowei.reports.svg`, which escapes its own text) as ``Markup``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from xiaowei.web.access import may
from xiaowei.web.i18n import HTML_LANG, language, translations
from xiaowei.web.session import WebUser, csrf_token, role_label

BEIJING = dt.timezone(dt.timedelta(hours=8))

# (permission, path, message id) in the order of the left navigation.
NAVIGATION = (
    ("dashboard", "/web/dashboard", "Dashboard"),
    ("tasks.read", "/web/tasks", "My tasks"),
    ("applications.read", "/web/applications", "Applications"),
    ("review.read", "/web/reviews", "Review queue"),
    ("customers.read", "/web/customers", "Customers"),
    ("customers.read", "/web/operations", "Customer operations"),
    ("tasks.read", "/web/operations/plan", "My day"),
    ("strategies.read", "/web/strategies", "Strategies"),
    ("models.read", "/web/models", "Models"),
    ("field.use", "/web/field", "Field work"),
    ("staff.read", "/web/staff", "Staff management"),
)


def money(value: Any) -> str:
    """Yuan with thousands separators and no float noise: ``1,250,000.00``."""
    if value in (None, ""):
        return "—"
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def when(value: Any, with_time: bool = True) -> str:
    """An instant in Beijing time (the bank's clock), or a date as it is."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        local = value.astimezone(BEIJING)
        return f"{local:%Y-%m-%d %H:%M}" if with_time else f"{local:%Y-%m-%d}"
    return str(value)


def percent(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{float(value) * 100:.{digits}f}%"


ENV = Environment(loader=PackageLoader("xiaowei.web", "templates"),
                  autoescape=select_autoescape(["html"], default=True),
                  trim_blocks=True, lstrip_blocks=True)
ENV.filters.update(money=money, when=when, percent=percent)


def page(request: Request, template: str, user: WebUser | None, status: int = 200,
         **context: Any) -> HTMLResponse:
    """The page ``template`` in the person's language, with layout context filled in."""
    lang = language(request)
    tr = translations(lang)
    shown = [] if user is None else [(path, label) for permission, path, label in NAVIGATION
                                     if may(user, permission)]
    here = request.url.path
    # The longest menu path the page lies under is the active one (/web/operations/plan is
    # "My day", not also "Customer operations").
    under = [p for p, _ in shown if here == p or here.startswith(p + "/")]
    current = max(under, key=len, default=None)
    nav = [{"path": path, "label": tr.gettext(label), "active": path == current}
           for path, label in shown]
    html = ENV.get_template(template).render(
        _=tr.gettext, lang=lang, html_lang=HTML_LANG[lang], user=user, nav=nav,
        csrf=csrf_token(request), here=request.url.path, query=request.url.query,
        role=role_label(user.role, lang) if user is not None else "", **context)
    return HTMLResponse(html, status_code=status)
