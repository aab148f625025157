"""Structured logs: one JSON object a line, one line per request, with its request id.

Why JSON: a bank's log collector (ELK, Loki, Splunk) indexes fields without parsing rules, and
an operator finds every line of one request by its id — the same id the caller got back in
``X-Request-ID`` and in any problem answer.

What a request line holds: ``ts``, ``level``, ``request_id``, ``method``, ``route`` (the route
*template*, e.g. ``/v1/applications/{application_id}``, never the raw path), ``status``, ``ms``
and ``user`` when authentication named one. Never personal data: no names, ID numbers or
phone numbers — so no bodies, no query strings, no raw paths, no header values other than
the request id and a staff user id of the registry's shape.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

ACCESS = logging.getLogger("xiaowei.api.access")
STAFF_USER = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
"""A staff login name as the user registry keeps them (``wang.li``); nothing else is logged."""


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: ``ts``, ``level``, ``logger`` and either the structured
    ``fields`` a caller passed (``extra={"fields": {...}}``) or the plain ``message``."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name}
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            doc.update(fields)
        else:
            doc["message"] = record.getMessage()
        return json.dumps(doc, ensure_ascii=False, default=str)


def configure_logging(level: str = "info") -> None:
    """Send xiaowei's and uvicorn's logs to stderr as JSON lines (``xiaowei serve`` calls this).

    uvicorn's own access log is switched off: the request line here replaces it, with the
    route template instead of the raw path (which may carry personal data)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("xiaowei", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True


def user_of(state: Mapping[str, Any] | None) -> str | None:
    """The acting staff user the authentication layer left in the request's state (the
    principal's login name, ``request.state.principal.name``), if it has a user name's shape."""
    if not state:
        return None
    user = getattr(state.get("principal"), "name", None)
    if isinstance(user, str) and STAFF_USER.fullmatch(user):
        return user
    return None


def log_request(*, request_id: str, method: str, route: str, status: int, ms: float,
                user: str | None) -> None:
    """Write the one line of a finished request (level warning for 5xx)."""
    fields: dict[str, Any] = {"request_id": request_id, "method": method, "route": route,
                              "status": status, "ms": round(ms, 2)}
    if user:
        fields["user"] = user
    level = logging.WARNING if status >= 500 else logging.INFO
    if ACCESS.isEnabledFor(level):
        ACCESS.log(level, "request", extra={"fields": fields})


__all__ = ["ACCESS", "JsonFormatter", "configure_logging", "log_request", "user_of"]
