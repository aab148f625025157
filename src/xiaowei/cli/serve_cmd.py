"""`xiaowei serve` (the API and, once mounted, the pages in one process) and `xiaowei api openapi`.

Why uvicorn with an app *factory*: each worker process builds its own app — its own decider,
database pool and metrics — from the environment, as a bank's deployment configures it
(``XIAOWEI_HOME``, ``XIAOWEI_DATABASE_URL``, ``XIAOWEI_ANALYTIC_PATH``). Options that are not
settings (model directories, the body limit) reach the workers through the environment too.

Why the OpenAPI document is exported by a command: ``docs/openapi.json`` is what integrators
read, and a test compares it with what the app produces, so the document never drifts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from fastapi import FastAPI

from xiaowei.cli.decide_cmd import model_dirs_option
from xiaowei.cli.output import err, fail
from xiaowei.config import Settings, get_settings

MODEL_DIRS_ENV = "XIAOWEI_SERVE_MODEL_DIRS"
MAX_BODY_ENV = "XIAOWEI_MAX_BODY_BYTES"
SERVING_TAGS_ENV = "XIAOWEI_SERVE_TAGS"  # "serving" (default) or "exact"
DEFAULT_SPEC = Path("docs") / "openapi.json"

api_app = typer.Typer(help="HTTP 接口 — the HTTP API's documents", no_args_is_help=True)


def build_app() -> FastAPI:
    """The app a uvicorn worker serves, from the environment (see the module doc)."""
    from xiaowei.api import create_app
    from xiaowei.api.limits import DEFAULT_MAX_BODY

    dirs = json.loads(os.environ.get(MODEL_DIRS_ENV) or "{}")
    max_body = int(os.environ.get(MAX_BODY_ENV) or DEFAULT_MAX_BODY)
    # Operators (and bench_api's A/B) may turn serving-mode tags off: exact-day online tags.
    serving = os.environ.get(SERVING_TAGS_ENV, "serving") != "exact"
    return create_app(get_settings(), model_dirs=dirs or None, max_body_bytes=max_body,
                      serving_tags=serving)


def openapi_text(settings: Settings | None = None) -> str:
    """The app's OpenAPI document as the text ``docs/openapi.json`` holds (stable order)."""
    from xiaowei.api import create_app

    spec = create_app(settings or get_settings()).openapi()
    return json.dumps(spec, ensure_ascii=False, indent=2) + "\n"


def serve(
    host: Annotated[str, typer.Option(help="监听地址 address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 port", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help=(
        "进程数 worker processes (each holds its own decider)"), min=1, max=64)] = 1,
    model_dir: Annotated[list[str] | None, typer.Option("--model-dir", help=(
        "ALIAS=DIR: score the pack's model ALIAS with this directory instead of the registry "
        "(tests and demos)"))] = None,
    max_body: Annotated[int, typer.Option(help=(
        "请求体上限 largest request body in bytes (larger: 413)"), min=1)] = 1024 * 1024,
    log_level: Annotated[str, typer.Option(help="日志级别 debug, info, warning or error")
                         ] = "info",
) -> None:
    """启动服务 — serve the HTTP API (and the pages) in one process; JSON logs on stderr."""
    import uvicorn

    from xiaowei.api.logs import configure_logging
    from xiaowei.store.migrate import current_revision, head_revision

    if log_level.lower() not in ("debug", "info", "warning", "error"):
        fail(f"--log-level must be debug, info, warning or error, got {log_level!r}")
    settings = get_settings()
    if current_revision(settings.database_url) != head_revision():
        fail("the transactional store is not at the latest schema: run `xiaowei db upgrade`")
    if not settings.analytic_path.is_file():
        fail(f"no analytic store at {settings.analytic_path}: load the bank's data first "
             "(`xiaowei load`) or set XIAOWEI_ANALYTIC_PATH")
    os.environ[MODEL_DIRS_ENV] = json.dumps(model_dirs_option(model_dir or []))
    os.environ[MAX_BODY_ENV] = str(max_body)
    configure_logging(log_level)
    err.print(f"小微 xiaowei serving on http://{host}:{port} ({workers} worker(s)); "
              "GET /healthz, /readyz, /metrics, /docs")
    uvicorn.run("xiaowei.cli.serve_cmd:build_app", factory=True, host=host, port=port,
                workers=workers, log_config=None, access_log=False,
                log_level=log_level.lower())


@api_app.command("openapi")
def openapi(
    out: Annotated[Path, typer.Option("--out", help="写入 where to write the document")
                   ] = DEFAULT_SPEC,
) -> None:
    """导出 OpenAPI — write the API's OpenAPI document (docs/openapi.json by default)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(openapi_text(), "utf-8")
    err.print(f"wrote {out}")


__all__ = ["api_app", "build_app", "openapi_text", "serve"]
