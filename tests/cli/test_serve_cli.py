"""`xiaowei serve` starts one process serving the API (probed at /healthz and /readyz), and
`xiaowei api openapi` writes the document that docs/openapi.json must equal."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.cli.serve_cmd import openapi_text

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_healthz_and_stops(pipeline_store: Engine, pipeline_bank: dict[str, Any],
                                         db_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "XIAOWEI_HOME": str(pipeline_bank["home"]),
           "XIAOWEI_DATABASE_URL": db_url, "XIAOWEI_ANALYTIC_PATH": str(pipeline_bank["analytic"])}
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "xiaowei", "serve", "--port", str(port),
         "--model-dir", f"app_score={pipeline_bank['model']}"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200, _tail(log)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10,
                          headers={"X-Request-ID": "serve-test-1"})
        assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    lines = [json.loads(line) for line in _tail(log).splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == "serve-test-1" and line.get("route") == "/readyz"
               for line in lines)


def _tail(log: Any) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-4000:]


def test_serve_refuses_a_store_without_the_schema(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIAOWEI_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port())])
    assert result.exit_code == 2 and "xiaowei db upgrade" in result.output


def test_openapi_command_writes_the_checked_in_document(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    result = CliRunner().invoke(app, ["api", "openapi", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text("utf-8"))
    assert {"/healthz", "/readyz", "/metrics", "/v1/applications"} <= set(doc["paths"])
    assert "Problem" in doc["components"]["schemas"]
    checked_in = (REPO / "docs" / "openapi.json").read_text("utf-8")
    assert out.read_text("utf-8") == checked_in == openapi_text(), (
        "docs/openapi.json is out of date: run `xiaowei api openapi`")
