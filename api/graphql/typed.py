"""``strawberry.field`` and ``strawberry.mutation`` with a description, typed for mypy --strict.

Strawberry's overload for the keyword-only form returns ``Any``, which strict mypy rejects as an
untyped decorator; passing the resolver positionally returns the same field, typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

R = TypeVar("R", bound=Callable[..., Any])


def field(description: str) -> Callable[[R], R]:
    def decorate(resolver: R) -> R:
        return cast(R, strawberry.field(resolver, description=description))

    return decorate


def mutation(description: str) -> Callable[[R], R]:
    def decorate(resolver: R) -> R:
        return cast(R, strawberry.mutation(resolver, description=description))

    return decorate
