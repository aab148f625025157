"""The workbench's pages under ``/web``: thin handlers — who is asking, may they, call a view
or a domain function, render.

Why every state change is a POST carrying the session's CSRF token and answered by a redirect
(303): a reload never submits twice, and a page on another site cannot make a signed-in
person's browser approve a loan. Refusals of the domain (a note missing on an overturn, a
checker who is the maker) come back on the same page, in the person's words where the
domain gives both languages.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from xiaowei.engine.workflow import WorkflowError
from xiaowei.origination.authority import check_review_authority
from xiaowei.origination.decide import ApplicationError
from xiaowei.origination.due_diligence import DueDiligence, Finding
from xiaowei.origination.intake import IntakeError, submit
from xiaowei.origination.review_queue import ReviewQueue
from xiaowei.strategies.errors import StrategyError
from xiaowei.strategies.store import StrategyStore
from xiaowei.web import views
from xiaowei.web.access import may, require
from xiaowei.web.i18n import LANG_COOKIE, LANGUAGES, language, translations
from xiaowei.web.render import page
from xiaowei.web.session import WebUser, csrf_ok, current_user
from xiaowei.web.views import applications as app_views
from xiaowei.web.views import customers as customer_views
from xiaowei.web.views import dashboard as dashboard_views
from xiaowei.web.views import review as review_views
from xiaowei.web.views import strategies as strategy_views
from xiaowei.web.views import tasks as task_views

PARTY_TYPES = ("enterprise", "individual_business", "business_owner")
PRODUCTS = ("working_capital", "credit_line", "tax_loan", "invoice_loan", "guaranteed",
            "mortgage_backed", "supply_chain_finance")
CHANNELS = ("manager_referral", "walk_in", "online", "supply_chain", "renewal")


class PageRoute(APIRoute):
    """A route whose refusals (401, 403, 404) are pages, not JSON: 401 goes to the login."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except HTTPException as refused:
                if refused.status_code == 401:
                    return RedirectResponse(
                        f"/web/login?next={quote(request.url.path)}", status_code=303)
                return page(request, "error.html", current_user(request),
                            status=refused.status_code, code=refused.status_code)

        return handler


router = APIRouter(prefix="/web", include_in_schema=False, route_class=PageRoute)
Viewer = Annotated[WebUser | None, Depends(current_user)]
Csrf = Annotated[str, Form(alias="csrf_token")]


def _engine(request: Request) -> Any:
    return request.app.state.engine


def _home(request: Request) -> Path:
    return Path(request.app.state.web_home)


def _checked(request: Request, token: str) -> None:
    if not csrf_ok(request, token):
        raise HTTPException(403, "the form's security token is missing or stale")


def _back(path: str, **query: str) -> RedirectResponse:
    tail = "&".join(f"{k}={quote(v)}" for k, v in query.items())
    return RedirectResponse(path + (f"?{tail}" if tail else ""), status_code=303)


# -- signing in, language ------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, user: Viewer, next: str = "/web/tasks") -> Response:
    """The sign-in form; it posts to ``/api/auth/session`` (the security package's sign-in),
    which sets the session and CSRF cookies."""
    target = next if next.startswith("/web/") else "/web/tasks"
    return page(request, "login.html", user, next=target)


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/web/tasks") -> Response:
    """The language switch: a cookie for a year, then back to the page."""
    if code not in LANGUAGES:
        raise HTTPException(404, "no such language")
    response = RedirectResponse(next if next.startswith("/web/") else "/web/tasks", 303)
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response


# -- dashboard, inbox ----------------------------------------------------------------------

@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, user: Viewer) -> Response:
    me = require(user, "dashboard")
    intake = getattr(request.app.state, "intake", None)
    data = dashboard_views.dashboard(_engine(request), me, translations(language(request)),
                                     analytic=getattr(intake, "reader", None))
    return page(request, "dashboard.html", me, **data)


@router.get("/tasks", response_class=HTMLResponse)
def tasks(request: Request, user: Viewer) -> Response:
    me = require(user, "tasks.read")
    return page(request, "tasks.html", me,
                **task_views.inbox(_engine(request), me, language(request)))


# -- applications --------------------------------------------------------------------------

@router.get("/applications", response_class=HTMLResponse)
def applications(request: Request, user: Viewer, status: str | None = None,
                 page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
                 submitted: str | None = None) -> Response:
    me = require(user, "applications.read")
    data = app_views.application_list(_engine(request), me, status, page_no)
    return page(request, "applications.html", me, submitted=submitted,
                can_submit=may(me, "applications.submit"), **data)


@router.get("/applications/new", response_class=HTMLResponse)
def new_application(request: Request, user: Viewer) -> Response:
    me = require(user, "applications.submit")
    return page(request, "application_new.html", me, **_form_context({}))


def _form_context(values: dict[str, Any], problems: list[str] | None = None) -> dict[str, Any]:
    key = values.get("application_id") or f"WEB-{dt.date.today():%Y%m%d}-{uuid.uuid4().hex[:8]}"
    return {"values": {"applied_on": dt.date.today().isoformat(), **values,
                       "application_id": key},
            "party_types": PARTY_TYPES, "products": PRODUCTS, "channels": CHANNELS,
            "problems": problems or []}


@router.post("/applications")
def submit_application(request: Request, user: Viewer, csrf: Csrf,
                       application_id: Annotated[str, Form()],
                       party_id: Annotated[str, Form()], party_type: Annotated[str, Form()],
                       product_intent: Annotated[str, Form()], channel: Annotated[str, Form()],
                       amount: Annotated[str, Form()], applied_on: Annotated[str, Form()],
                       automated_ok: Annotated[str | None, Form()] = None) -> Response:
    me = require(user, "applications.submit")
    _checked(request, csrf)
    doc = {"application_id": application_id.strip(), "party_id": party_id.strip(),
           "party_type": party_type, "product_intent": product_intent, "channel": channel,
           "amount": amount.strip(), "applied_on": applied_on.strip()}
    intake = request.app.state.intake
    try:
        submit(_engine(request), intake.decider, doc, user=me.name,
               automated_ok=automated_ok is not None, party_key=intake.party_key)
    except ApplicationError as bad:
        return page(request, "application_new.html", me, status=422,
                    **_form_context(doc, list(bad.problems)))
    except IntakeError as refused:
        return page(request, "application_new.html", me, status=422,
                    **_form_context(doc, [str(refused)]))
    try:
        app_views.application_file(_engine(request), me, doc["application_id"], "en")
    except HTTPException:
        return _back("/web/applications", submitted=doc["application_id"])
    return _back(f"/web/applications/{quote(doc['application_id'])}", done="submitted")


@router.get("/applications/{application_id}", response_class=HTMLResponse)
def application(request: Request, user: Viewer, application_id: str,
                done: str | None = None) -> Response:
    me = require(user, "applications.read")
    data = app_views.application_file(_engine(request), me, application_id,
                                      language(request))
    return page(request, "application.html", me, done=done, **data)


# -- review --------------------------------------------------------------------------------

@router.get("/reviews", response_class=HTMLResponse)
def reviews(request: Request, user: Viewer) -> Response:
    me = require(user, "review.read")
    return page(request, "reviews.html", me,
                items=review_views.review_queue(_engine(request), me))


@router.get("/reviews/{task_id}", response_class=HTMLResponse)
def review(request: Request, user: Viewer, task_id: str, done: str | None = None,
           error: str | None = None, status: int = 200) -> Response:
    me = require(user, "review.read")
    data = review_views.review_file(_engine(request), me, task_id, language(request))
    return page(request, "review.html", me, status=status, done=done, error=error, **data)


@router.post("/reviews/{task_id}/{action}")
def review_action(request: Request, user: Viewer, task_id: str, action: str, csrf: Csrf,
                  note: Annotated[str, Form()] = "",
                  amount: Annotated[str, Form()] = "") -> Response:
    """claim, approve, reject, confirm or refuse (checker) — through :class:`ReviewQueue`."""
    me = require(user, "review.decide")
    _checked(request, csrf)
    review_views.review_file(_engine(request), me, task_id, "en")  # 404 outside scope
    queue = ReviewQueue(_engine(request))
    by, text = me.name, note.strip() or None
    try:
        if action == "claim":
            queue.claim(task_id, by=by)
        elif action == "approve":
            value = views.parse_amount(amount)
            check_review_authority(me, queue.work.get(task_id), action, value)  # same as the API
            queue.approve(task_id, by=by, note=text, amount=value)
        elif action == "reject":
            queue.reject(task_id, by=by, note=text)
        elif action in ("confirm", "refuse"):
            check_review_authority(me, queue.work.get(task_id), action)
            queue.check(task_id, by=by, confirm=action == "confirm", note=text)
        else:
            raise HTTPException(404, "no such action")
    except (WorkflowError, ValueError) as refused:
        return review(request, me, task_id, error=str(refused), status=409)
    return _back(f"/web/reviews/{quote(task_id)}", done=action)


# -- customers -----------------------------------------------------------------------------

@router.get("/customers", response_class=HTMLResponse)
def customers(request: Request, user: Viewer, q: str = "") -> Response:
    me = require(user, "customers.read")
    return page(request, "customers.html", me, q=q,
                items=customer_views.customer_list(_engine(request), me, q))


@router.get("/customers/{party_id}", response_class=HTMLResponse)
def customer(request: Request, user: Viewer, party_id: str) -> Response:
    me = require(user, "customers.read")
    intake = getattr(request.app.state, "intake", None)
    return page(request, "customer.html", me, **customer_views.customer_360(
        _engine(request), me, party_id, language(request),
        analytic=getattr(intake, "reader", None)))


# -- strategies and models -----------------------------------------------------------------

@router.get("/strategies", response_class=HTMLResponse)
def strategies(request: Request, user: Viewer) -> Response:
    me = require(user, "strategies.read")
    return page(request, "strategies.html", me, **strategy_views.strategy_list(
        _engine(request), _home(request), language(request)))


@router.get("/strategies/backtests/{name}", response_class=HTMLResponse)
def backtest(user: Viewer, request: Request, name: str) -> Response:
    require(user, "strategies.read")
    return HTMLResponse(strategy_views.backtest_report(_home(request), name))


@router.get("/strategies/{name}/{version}", response_class=HTMLResponse)
def strategy(request: Request, user: Viewer, name: str, version: int,
             against: int | None = None, done: str | None = None,
             error: str | None = None, status: int = 200) -> Response:
    me = require(user, "strategies.read")
    return page(request, "strategy.html", me, status=status, done=done, error=error,
                **strategy_views.strategy_version(_engine(request), name, version, against,
                                                  language(request)))


@router.post("/strategies/{name}/{version}/{action}")
def strategy_action(request: Request, user: Viewer, name: str, version: int, action: str,
                    csrf: Csrf, note: Annotated[str, Form()] = "") -> Response:
    """approve (checker, not the author) or publish — through :class:`StrategyStore`."""
    me = require(user, f"strategies.{action}" if action in ("approve", "publish") else "")
    _checked(request, csrf)
    store, ref = StrategyStore(_engine(request)), f"{name}@{version}"
    try:
        if action == "approve":
            store.approve(ref, me.name, note=note.strip() or None)
        elif action == "publish":
            store.publish(ref, me.name, note=note.strip() or None)
        else:
            raise HTTPException(404, "no such action")
    except (StrategyError, ValueError) as refused:
        return strategy(request, me, name, version, error=str(refused), status=409)
    return _back(f"/web/strategies/{quote(name)}/{version}", done=action)


@router.get("/models", response_class=HTMLResponse)
def models(request: Request, user: Viewer) -> Response:
    me = require(user, "models.read")
    return page(request, "models.html", me, items=strategy_views.model_list(
        _engine(request), _home(request), language(request)))


@router.get("/models/{name}/{version}", response_class=HTMLResponse)
def model(request: Request, user: Viewer, name: str, version: int) -> Response:
    me = require(user, "models.read")
    return page(request, "model.html", me, **strategy_views.model_version(
        _engine(request), _home(request), name, version))


# -- field work (phone-sized) --------------------------------------------------------------

@router.get("/field", response_class=HTMLResponse)
def field(request: Request, user: Viewer) -> Response:
    me = require(user, "field.use")
    return page(request, "field.html", me,
                items=task_views.field_tasks(_engine(request), me, language(request)))


@router.get("/field/{task_id}", response_class=HTMLResponse)
def field_visit(request: Request, user: Viewer, task_id: str, done: str | None = None,
                error: str | None = None, status: int = 200) -> Response:
    me = require(user, "field.use")
    return page(request, "visit.html", me, status=status, done=done, error=error,
                **task_views.visit(_engine(request), me, task_id, language(request)))


@router.post("/field/{task_id}/check-in")
def field_check_in(request: Request, user: Viewer, task_id: str, csrf: Csrf) -> Response:
    me = require(user, "field.use")
    _checked(request, csrf)
    task_views.visit(_engine(request), me, task_id, "en")  # 404 unless the manager's own
    try:
        task_views.check_in(_engine(request), task_id, me.manager_id or me.name)
    except WorkflowError as refused:
        return field_visit(request, me, task_id, error=str(refused), status=409)
    return _back(f"/web/field/{quote(task_id)}", done="checked_in")


@router.post("/field/{task_id}/record")
async def field_record(request: Request, task_id: str) -> Response:
    """The whole checklist at once: ``outcome_<item>`` (ok | adverse) and ``note_<item>``."""
    me = require(await run_in_threadpool(current_user, request), "field.use")
    form = await request.form()
    if not await run_in_threadpool(csrf_ok, request, str(form.get("csrf_token", ""))):
        raise HTTPException(403, "the form's security token is missing or stale")
    sheet = await run_in_threadpool(task_views.visit, _engine(request), me, task_id, "en")
    findings = [Finding(i["id"], str(form.get(f"outcome_{i['id']}", "")),
                        str(form.get(f"note_{i['id']}", "")).strip() or None)
                for i in sheet["items"]]
    try:
        await run_in_threadpool(DueDiligence(_engine(request)).record, task_id,
                                by=me.manager_id or me.name, findings=findings)
    except WorkflowError as refused:
        return await run_in_threadpool(field_visit, request, me, task_id, None, str(refused),
                                       422)
    return _back("/web/field", done=task_id)
