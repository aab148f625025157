"""Customer-operations pages under ``/web/operations``: customers by grade and stage, one
customer's relationship, and the manager's plan for the day (phone-sized). Thin: the views
read the customer batch's stored day; scope is checked there."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from xiaowei.web.access import require
from xiaowei.web.i18n import language
from xiaowei.web.render import page
from xiaowei.web.routes import PageRoute, Viewer, _engine
from xiaowei.web.views import operations as views

router = APIRouter(prefix="/web/operations", include_in_schema=False, route_class=PageRoute)


def _reader(request: Request) -> object:
    return getattr(getattr(request.app.state, "intake", None), "reader", None)


@router.get("", response_class=HTMLResponse)
def customers_by_grade(request: Request, user: Viewer, grade: str = "",
                       stage: str = "") -> Response:
    me = require(user, "customers.read")
    data = views.customer_list(_reader(request), me, language(request), grade, stage)
    return page(request, "operations.html", me, **data)


@router.get("/customers/{party_id}", response_class=HTMLResponse)
def operations_customer(request: Request, user: Viewer, party_id: str) -> Response:
    me = require(user, "customers.read")
    return page(request, "operations_customer.html", me,
                **views.operations_customer(_reader(request), me, party_id))


@router.get("/plan", response_class=HTMLResponse)
def day_plan(request: Request, user: Viewer) -> Response:
    me = require(user, "tasks.read")
    return page(request, "plan.html", me,
                **views.day_plan(_engine(request), _reader(request), me, language(request)))


__all__ = ["router"]
