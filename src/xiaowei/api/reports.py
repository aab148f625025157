"""`/api/reports`: the latest KPI comparison (digital vs traditional process) and the backtests
kept under ``XIAOWEI_HOME``.

Why only what is stored: both take minutes to make (``xiaowei demo`` stores the comparison,
:mod:`xiaowei.reports.kpi_file`; ``xiaowei backtest`` writes a folder under
``XIAOWEI_HOME/backtests``), so the API reads the last result instead of recomputing it per
request. Who may read: the KPIs are the bank's or a branch's figures, as on the dashboard
(``applications`` read scope branch or all), backtests whoever reads strategies. No customer
data is in either.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from xiaowei.api.deps import CurrentPrincipal, require
from xiaowei.api.paging import Page, PageNo, PageSize, page_of
from xiaowei.reports.kpi_file import KPI_FILE, load_kpis
from xiaowei.security.principal import Principal

router = APIRouter(prefix="/api/reports", tags=["reports"])
SAFE_FOLDER = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
BACKTESTS = "backtests"


def _kpi_reader(principal: CurrentPrincipal) -> Principal:
    if principal.scope("applications") not in ("branch", "all"):
        raise HTTPException(403, f"{principal.name} ({principal.role}) may not read the "
                                 "bank's KPIs (needs applications read scope branch or all)")
    return principal


KpiReader = Annotated[Principal, Depends(_kpi_reader)]
BacktestReader = Annotated[Principal, require("strategies:read")]


class KpiReport(BaseModel):
    """The comparison as ``xiaowei demo`` made it (``digital``, ``traditional``, ``targets``,
    ``window``, ``calibration``, ``model`` …; more members may follow)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="'latest'")
    stored_at: str | None = Field(None, description="when it was stored (ISO 8601, UTC)")
    window: dict[str, Any] | None = None
    digital: dict[str, Any] | None = None
    traditional: dict[str, Any] | None = None
    targets: dict[str, Any] | None = None


class Backtest(BaseModel):
    """One backtest folder: its report page (a link to the workbench) and its files."""

    id: str = Field(description="the folder's name (challenger-vs-champion pack versions)")
    has_report: bool
    href: str | None = Field(description="the self-contained report page, if written")
    files: list[str]
    modified_at: dt.datetime


def _home(request: Request) -> Path:
    return Path(request.app.state.home)


@router.get("/kpis")
def kpis(request: Request, _: KpiReader) -> KpiReport:
    """The latest stored KPI comparison; 404 until ``xiaowei demo`` (or a run) stored one."""
    doc = load_kpis(_home(request))
    if doc is None:
        raise HTTPException(404, f"no KPI comparison is stored yet (XIAOWEI_HOME/{KPI_FILE}); "
                                 "run 'xiaowei demo'")
    return KpiReport(**{**doc, "id": "latest"})


def backtest_folders(home: Path) -> list[Backtest]:
    """The backtest folders under ``home/backtests``, by name."""
    root = home / BACKTESTS
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and SAFE_FOLDER.match(p.name)):
        report = (folder / "backtest.html").is_file()
        out.append(Backtest(
            id=folder.name, has_report=report,
            href=f"/web/strategies/backtests/{quote(folder.name)}" if report else None,
            files=sorted(p.name for p in folder.iterdir() if p.is_file()),
            modified_at=dt.datetime.fromtimestamp(folder.stat().st_mtime, dt.UTC)))
    return out


@router.get("/backtests")
def backtests(request: Request, _: BacktestReader, page: PageNo = 1,
              size: PageSize = 50) -> Page[Backtest]:
    """The backtests kept under ``XIAOWEI_HOME/backtests`` (``xiaowei backtest``), by name."""
    return page_of(backtest_folders(_home(request)), page, size)
