"""`xiaowei decide`: decide credit applications with the default (or a given) strategy pack.

Thin by design: parse the file and options, call ``origination.decide``, render. One JSON
application gives one decision; a CSV or JSON Lines file gives one decision per row (a row
with bad fields becomes an ``error`` entry listing its problems, so one bad row does not stop
a batch). With ``--json`` stdout holds exactly one JSON object.
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xiaowei.cli.output import err, fail, out, print_json
from xiaowei.cli.packs import resolve_pack
from xiaowei.config import get_settings
from xiaowei.origination.decide import (
    DEFAULT_PACK,
    ApplicationError,
    DefaultDecider,
    batch_tag_reader,
)
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.store.analytic import AnalyticStore

INT_FIELDS = ("term_months", "employees")


def read_applications(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """(applications, is_batch): a JSON object, a JSON list, JSON Lines, or a CSV file."""
    if not path.is_file():
        fail(f"no such file: {path}")
    text = path.read_text("utf-8-sig")
    if path.suffix.lower() == ".csv":
        rows = []
        for row in csv.DictReader(text.splitlines()):
            clean: dict[str, Any] = {k: v for k, v in row.items() if v not in (None, "")}
            for key in INT_FIELDS:
                if key in clean and str(clean[key]).isdigit():
                    clean[key] = int(clean[key])
            rows.append(clean)
        return rows, True
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()], True
        except json.JSONDecodeError as exc:
            fail(f"{path.name}: not JSON, JSON Lines or CSV ({exc})")
    if isinstance(doc, list):
        return doc, True
    return [doc], False


def model_dirs_option(specs: list[str]) -> dict[str, str]:
    found = {}
    for spec in specs:
        alias, sep, directory = spec.partition("=")
        if not sep or not alias or not directory:
            fail(f"--model-dir takes ALIAS=DIR, got {spec!r}")
        found[alias] = directory
    return found


def decide(
    application: Annotated[Path, typer.Option("--application", help=(
        "申请文件 — a JSON application, or a CSV / JSON Lines file of many"))],
    pack: Annotated[str, typer.Option("--pack", help=(
        "策略包 — pack YAML path (or its folder), or a stored version NAME@N / NAME@live"))
    ] = str(DEFAULT_PACK),
    model_dir: Annotated[list[str] | None, typer.Option("--model-dir", help=(
        "ALIAS=DIR: score the pack's model ALIAS with this model directory instead of the "
        "registry (tests and demos; shown as dir:… in the output)"))] = None,
    no_automation: Annotated[bool, typer.Option("--no-automation", help=(
        "申请人拒绝纯自动化决策 (PIPL art. 24): a person decides"))] = False,
    allow_draft: Annotated[bool, typer.Option("--allow-draft", help=(
        "accept draft models from the registry (backtests only)"))] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
) -> None:
    """授信决策 — decide applications: outcome, limit, price, term, DD level, tier, mode."""
    apps, batch = read_applications(application)
    with tempfile.TemporaryDirectory(prefix="xiaowei-decide-") as folder:
        results = _decide_all(apps, resolve_pack(pack, Path(folder)).path, model_dir or [],
                              no_automation, allow_draft)
    if not batch:
        if "error" in results[0]:
            if as_json:
                print_json(results[0])
                raise typer.Exit(2)
            fail(results[0]["error"])
        if as_json:
            print_json(results[0])
        else:
            _render(results[0])
        return
    if as_json:
        print_json({"decisions": results, "count": len(results)})
        return
    for result in results:
        if "error" in result:
            err.print(result["error"])
        else:
            _render(result)


def _decide_all(apps: list[Any], pack: Path, model_dir: list[str], no_automation: bool,
                allow_draft: bool) -> list[dict[str, Any]]:
    """Every application decided by one decider (the online tag engine is built once)."""
    overrides = model_dirs_option(model_dir or [])
    settings = get_settings()
    with AnalyticStore(settings.analytic_path) as analytic, batch_tag_reader(analytic) as tags:
        registry_cm = None
        registry = None
        try:
            if not overrides:
                from xiaowei.modelling.registry import open_registry

                registry_cm = open_registry()
                registry = registry_cm.__enter__()
            resolver = RegistryModelResolver(registry, allow_draft=allow_draft,
                                             overrides=overrides)
            try:
                decider = DefaultDecider(tags=tags, resolver=resolver, pack_path=pack)
            except Exception as exc:  # a refused pack or an unresolvable model
                fail(f"cannot load the pack or its models: {exc}")
            results = [_one(decider, app, not no_automation) for app in apps]
        finally:
            if registry_cm is not None:
                registry_cm.__exit__(None, None, None)
    return results


def _one(decider: DefaultDecider, app: Any, automated_ok: bool) -> dict[str, Any]:
    try:
        return decider.decide(app, automated_ok=automated_ok)
    except ApplicationError as exc:
        return {"error": str(exc), "problems": exc.problems,
                "application_id": app.get("application_id") if isinstance(app, dict) else None}


def _render(result: dict[str, Any]) -> None:
    table = Table(show_header=False, title=f"授信决策 decision · {result['application_id']}")
    for key in ("outcome", "mode", "limit", "price", "term", "grade", "dd_level",
                "manager_tier", "segment", "pack_version"):
        table.add_row(key, str(result.get(key)))
    out.print(table)
    for r in result["reasons"]:
        out.print(f"  {r['code']}  {r['zh']} · {r['en']}")
