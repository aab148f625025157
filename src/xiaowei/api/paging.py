"""One shape for every list of the API: ``items`` (each with an ``id``), ``page``, ``size``,
``total`` — and the query parameters that ask for a page.

Why shared: a client (the bank's systems, the pages) pages through customers, tasks,
strategies, models and users the same way, and the OpenAPI document says so once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

MAX_SIZE = 200
T = TypeVar("T")

PageNo = Annotated[int, Query(ge=1, description="the page, from 1")]
PageSize = Annotated[int, Query(ge=1, le=MAX_SIZE, description=f"items a page, at most {MAX_SIZE}")]


class Page(BaseModel, Generic[T]):
    """A page of a list in a stable order."""

    items: list[T]
    page: int = Field(ge=1)
    size: int = Field(ge=1, le=MAX_SIZE)
    total: int = Field(ge=0, description="items in the whole list (every page)")


def offset(page: int, size: int) -> int:
    return (page - 1) * size


def page_of(items: Sequence[T], page: int, size: int) -> Page[T]:
    """A page of a list already in memory and in its stable order (a short list: users)."""
    start = offset(page, size)
    return Page[T](items=list(items[start:start + size]), page=page, size=size,
                   total=len(items))


__all__ = ["MAX_SIZE", "Page", "PageNo", "PageSize", "offset", "page_of"]
