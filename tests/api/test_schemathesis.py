"""Schemathesis against the app's own OpenAPI document, in process (ASGI): for every operation,
generated requests never get a 5xx and every response matches the documented schema.

Why not ``@schema.parametrize()``: its lazy fixture loader does not work with this pytest; the
operations are walked here instead, each with its own Hypothesis run, and the test checks that
every operation of the document was exercised.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.python import asgi
from sqlalchemy import Engine
from tests.api_support import bank_settings, bearer_headers, model_dirs

from xiaowei.api import create_app

EXAMPLES = 12  # per operation: enough to reach each error path, well under a minute in all
# No 5xx, and status, media type, headers and body as documented. Not "schema-valid data is
# accepted": the application bodies are documented as any JSON (intake lists every field
# problem itself), so most generated bodies are rightly refused with a 422 problem.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_headers_conformance,
          checks.response_schema_conformance]


@pytest.fixture
def app_and_token(pipeline_store: Engine,
                  pipeline_bank: dict[str, Any]) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    app = create_app(bank_settings(pipeline_store, pipeline_bank),
                     model_dirs=model_dirs(pipeline_bank))
    with TestClient(app) as client:
        headers = bearer_headers(client, pipeline_store)
    yield app, headers
    asgi.shutdown_lifespans()  # schemathesis keeps the app started for the process otherwise


def exercise(operation: Any, headers: dict[str, str]) -> int:
    """Run one operation's generated cases; the number of cases sent."""
    sent = [0]

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        sent[0] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
    return sent[0]


def test_every_operation_conforms(app_and_token: tuple[FastAPI, dict[str, str]]) -> None:
    app, headers = app_and_token
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    seen: dict[str, int] = {}
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: op.path == "/api/auth/logout")  # revokes the token: last
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        try:
            seen[label] = exercise(operation, headers)
        except Exception as exc:  # collect, so one report names every failing operation
            failures[label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    documented = {f"{m.upper()} {p}" for p, item in app.openapi()["paths"].items()
                  for m in item}
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
    assert set(seen) == documented and all(seen.values()), seen
