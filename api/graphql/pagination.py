"""Relay-style cursor connections over ordered answers (trace listings, search hits).

Both answers come back in a stable order (traces by hops then key, search by key length then
key), so a cursor is the position after which the next page starts. Cursors are opaque to
clients; a cursor from an older state of the store still works, it just counts from the
current ordering.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import strawberry

from api.tracing import check_limit
from schema.errors import InvalidInputError

T = TypeVar("T")

_PREFIX = "tg:"


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The offset of the first row after ``cursor`` (0 without one)."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if text.startswith(_PREFIX) and int(text[len(_PREFIX) :]) >= 0:
            return int(text[len(_PREFIX) :]) + 1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInputError(f"'{cursor}' is not a cursor this server gave out")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        description="Every row there is, listed or not, when known (search does not count)"
    )


@dataclass(frozen=True)
class Page:
    """Which rows a request asked for: ``first`` rows after ``after``."""

    offset: int
    first: int


def page(first: int, after: str | None, *, maximum: int) -> Page:
    return Page(offset=decode_cursor(after), first=check_limit(first, maximum, name="first"))


def connection(rows: Sequence[T], requested: Page, *, has_next: bool, total: int | None) -> Connection[T]:
    """``rows`` are the page's rows, the first of them at ``requested.offset``."""
    edges = [Edge(cursor=encode_cursor(requested.offset + i), node=row) for i, row in enumerate(rows)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=requested.offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )
