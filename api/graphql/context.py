"""The per-request GraphQL context: the app's runtime and fresh DataLoaders.

Loaders live for one request, so their caches never serve one client's answer to another, nor
a stale answer after a load. Within a request they turn "the neighbours of each of these 100
nodes" into one store query, and "this node's view" into one fetch however often it is asked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.runtime import Runtime
from graph.port import Step
from schema.errors import NotFoundError, TraceGraphError
from schema.model import NodeView, TraceDirection

#: A node as of a moment (None: now).
ViewKey: TypeAlias = tuple[str, datetime | None]
#: One hop from a node, in a direction, as of a moment.
HopKey: TypeAlias = tuple[str, TraceDirection, datetime | None]


class Loaders:
    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self.views: DataLoader[ViewKey, NodeView | None] = DataLoader(self._load_views)
        self.hops: DataLoader[HopKey, Sequence[Step]] = DataLoader(self._load_hops)

    async def _load_views(self, keys: list[ViewKey]) -> list[NodeView | BaseException | None]:
        # The port has no batched node read yet: one worker-thread trip for the batch, one
        # store read per key. A missing node is an answer (None), not an error.
        def read() -> list[NodeView | BaseException | None]:
            out: list[NodeView | BaseException | None] = []
            for key, as_of in keys:
                try:
                    out.append(self._rt.services.node(key, as_of=as_of))
                except NotFoundError:
                    out.append(None)
                except TraceGraphError as exc:  # e.g. an invalid key: that key's error only
                    out.append(exc)
            return out

        return await self._rt.run(read)

    async def _load_hops(self, keys: list[HopKey]) -> list[Sequence[Step]]:
        groups: dict[tuple[TraceDirection, datetime | None], list[str]] = defaultdict(list)
        for key, direction, as_of in keys:
            groups[(direction, as_of)].append(key)

        def read() -> dict[tuple[TraceDirection, datetime | None], dict[str, Sequence[Step]]]:
            return {
                (direction, as_of): dict(self._rt.services.neighbours(group, direction, as_of=as_of))
                for (direction, as_of), group in groups.items()
            }

        found = await self._rt.run(read)
        return [found[(direction, as_of)].get(key, ()) for key, direction, as_of in keys]


class Context(BaseContext):
    def __init__(self, rt: Runtime) -> None:
        super().__init__()
        self.rt = rt
        self.loaders = Loaders(rt)


Info: TypeAlias = strawberry.Info[Context, None]
