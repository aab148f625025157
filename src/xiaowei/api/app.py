"""The FastAPI application factory.

Why a factory with a lifespan: the decider (pack, models, online tag engine) is expensive, so
the app builds ONE at startup and every request uses it; the database engine likewise. The
decider follows the pack version live in the strategy store (``xiaowei strategy publish``), so a
publication or rollback reaches the running server within seconds, without a restart. Tests
build a real app on a real store with their own settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import ExitStack, asynccontextmanager

from fastapi import FastAPI

from xiaowei.api import (
    applications,
    auth,
    customers,
    models,
    reports,
    staff_events,
    strategies,
    tags,
    tasks,
    users,
)
from xiaowei.api.limits import DEFAULT_MAX_BODY, BodyLimit
from xiaowei.api.ops import install_ops
from xiaowei.api.problems import install_problem_handlers
from xiaowei.config import Settings
from xiaowei.origination.intake_decider import open_intake_decider
from xiaowei.store.database import make_engine
from xiaowei.strategies.store import StrategyStore
from xiaowei.web import mount_web


def create_app(settings: Settings, *, model_dirs: Mapping[str, str] | None = None,
               live_check_seconds: float = 5.0, max_body_bytes: int = DEFAULT_MAX_BODY,
               serving_tags: bool = True) -> FastAPI:
    """The API on ``settings``' stores; ``model_dirs`` (ALIAS → DIR) bypasses the registry;
    ``live_check_seconds``: how often a decision may look up the live pack version;
    ``max_body_bytes``: larger request bodies are refused (413) before they are parsed;
    ``serving_tags``: live decisions read tags from the latest batch run where it may (see
    ``batch_tag_reader``); False computes every tag online as of the application day."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            engine = make_engine(settings.database_url)
            stack.callback(engine.dispose)
            app.state.engine = engine
            app.state.intake = stack.enter_context(
                open_intake_decider(settings.analytic_path, model_dirs=model_dirs,
                                    strategies=StrategyStore(engine),
                                    interval=live_check_seconds, serving=serving_tags))
            yield

    app = FastAPI(title="小微 xiaowei", version="1", lifespan=lifespan)
    app.include_router(applications.router)
    app.include_router(auth.router)
    app.include_router(customers.router)
    app.include_router(staff_events.router)
    for router in (tasks.router, tags.router, strategies.router, models.router, reports.router,
                   users.router):
        app.include_router(router)
    app.state.home = settings.home  # XIAOWEI_HOME: models, backtests, reports
    mount_web(app, settings.home)  # the workbench pages under /web, assets in the package
    install_problem_handlers(app)  # every error as RFC 9457 problem+json
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    install_ops(app, settings)  # /healthz /readyz /metrics, request ids, JSON logs (outermost)

    return app
