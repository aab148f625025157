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

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from xiaowei.api import applications
from xiaowei.config import Settings
from xiaowei.origination.decide import ApplicationError
from xiaowei.origination.intake import IntakeConflict, IntakeError
from xiaowei.origination.intake_decider import open_intake_decider
from xiaowei.store.database import make_engine
from xiaowei.strategies.store import StrategyStore


def create_app(settings: Settings, *, model_dirs: Mapping[str, str] | None = None,
               live_check_seconds: float = 5.0) -> FastAPI:
    """The API on ``settings``' stores; ``model_dirs`` (ALIAS → DIR) bypasses the registry;
    ``live_check_seconds``: how often a decision may look up the live pack version."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            engine = make_engine(settings.database_url)
            stack.callback(engine.dispose)
            app.state.engine = engine
            app.state.intake = stack.enter_context(
                open_intake_decider(settings.analytic_path, model_dirs=model_dirs,
                                    strategies=StrategyStore(engine),
                                    interval=live_check_seconds))
            yield

    app = FastAPI(title="小微 xiaowei", version="1", lifespan=lifespan)
    app.include_router(applications.router)

    @app.exception_handler(ApplicationError)
    async def invalid(_request: Request, exc: ApplicationError) -> JSONResponse:
        return JSONResponse({"detail": "invalid application", "problems": exc.problems}, 422)

    @app.exception_handler(IntakeConflict)
    async def conflict(_request: Request, exc: IntakeConflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "problems": [str(exc)]}, 409)

    @app.exception_handler(IntakeError)
    async def refused(_request: Request, exc: IntakeError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "problems": [str(exc)]}, 422)

    return app
