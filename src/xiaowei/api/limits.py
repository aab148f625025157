"""A limit on request bodies, enforced before anything parses them.

Why an ASGI middleware and not a check in the routers: a body is read and parsed as JSON before
a router sees it, so a 200 MB upload would already have cost its memory. This refuses a body
whose declared ``Content-Length`` is too large at once, and a chunked body as soon as its
chunks add up past the limit — either way with a 413 problem and before the application runs,
so nothing of it is stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

from xiaowei.api.problems import problem_response

DEFAULT_MAX_BODY = 1024 * 1024  # 1 MiB: a batch of ~1,000 applications

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(HTTPException):
    """Raised inside ``receive`` when a streamed body passes the limit; an HTTP 413, so that
    FastAPI's body parsing passes it on to the problem handlers instead of making it a 400."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body has more than {max_bytes:,} bytes; at most "
                              f"{max_bytes:,} are accepted (send a large batch in parts)")


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413 (``application/problem+json``)."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes!r}")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, declared)
            return
        seen = 0
        started = False

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting, tracking)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, None)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send,
                      declared: int | None) -> None:
        size = f"{declared:,} bytes" if declared is not None else "more"
        response = problem_response(
            Request(scope), 413, kind="body-too-large", title="请求体过大 · body too large",
            detail=f"the request body has {size}; at most {self.max_bytes:,} bytes are "
                   "accepted (send a large batch in parts)",
            headers={"Connection": "close"})
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


__all__ = ["DEFAULT_MAX_BODY", "BodyLimit"]
