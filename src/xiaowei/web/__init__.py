"""The web workbench (工作台): server-rendered pages for bank staff, Chinese first.

:func:`mount_web` is all the API's application factory needs: the page router under ``/web``
and the packaged CSS and script under ``/web/static`` — shipped inside the package, because
bank intranets are offline and nothing may come from a CDN.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def mount_web(app: FastAPI, home: Path) -> None:
    """Add the pages and their static files to ``app`` (``home``: XIAOWEI_HOME, where
    backtest reports and model artifacts live)."""
    from xiaowei.web.operations_pages import router as operations_router
    from xiaowei.web.postloan_pages import router as postloan_router
    from xiaowei.web.routes import router
    from xiaowei.web.staff_pages import router as staff_router

    app.state.web_home = str(home)
    app.include_router(router)
    app.include_router(postloan_router)
    app.include_router(operations_router)
    app.include_router(staff_router)
    app.mount("/web/static", StaticFiles(directory=STATIC), name="web-static")


__all__ = ["mount_web"]
