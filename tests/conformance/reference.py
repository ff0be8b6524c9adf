"""An obviously-correct reference for the time-respecting trace, written differently.

The store's trace walks states ``(node, interval)``. This reference instead asks, for single
moments ``t``: which containers hold ``x`` at ``t`` (transitively, through packings that are
open at ``t``)? An item reaches a container if it is inside it at some moment, and reaches a
shipment if it was shipped itself, or a container holding it at the shipping moment was.
Intervals are half-open, so "some moment" only needs checking at the interval starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pack:
    item: str
    container: str
    start: int
    end: int | None  # None: never unpacked


@dataclass(frozen=True)
class Ship:
    item: str
    shipment: str
    at: int


@dataclass
class RefPlant:
    lots: dict[str, list[str]] = field(default_factory=dict)  # lot -> devices
    packs: list[Pack] = field(default_factory=list)
    ships: list[Ship] = field(default_factory=list)
    deliveries: dict[str, str] = field(default_factory=dict)  # shipment -> consignee

    def _open_at(self, p: Pack, t: int) -> bool:
        return p.start <= t and (p.end is None or t < p.end)

    def holders(self, x: str, t: int) -> set[str]:
        """Containers holding ``x`` at moment ``t``, however deeply nested."""
        found: set[str] = set()
        todo = [x]
        while todo:
            y = todo.pop()
            for p in self.packs:
                if p.item == y and self._open_at(p, t) and p.container not in found:
                    found.add(p.container)
                    todo.append(p.container)
        return found

    def contents(self, c: str, t: int) -> set[str]:
        """Everything inside ``c`` at moment ``t``."""
        return {y for y in {p.item for p in self.packs} if y != c and c in self.holders(y, t)}

    def moments(self) -> set[int]:
        return {p.start for p in self.packs} | {s.at for s in self.ships}

    def forward_from_item(self, x: str) -> set[str]:
        containers = set().union(*(self.holders(x, t) for t in self.moments())) if self.moments() else set()
        shipments = {s.shipment for s in self.ships if s.item == x}
        shipments |= {s.shipment for s in self.ships if s.item in self.holders(x, s.at)}
        consignees = {self.deliveries[s] for s in shipments if s in self.deliveries}
        return containers | shipments | consignees

    def forward(self, start: str) -> set[str]:
        if start in self.deliveries:  # a shipment leads to its consignee
            return {self.deliveries[start]}
        if start in self.lots:
            reached = set(self.lots[start])
            for d in self.lots[start]:
                reached |= self.forward_from_item(d)
            return reached
        return self.forward_from_item(start)

    def _upstream_of_item(self, x: str) -> set[str]:
        return {lot for lot, devices in self.lots.items() if x in devices}

    def backward(self, start: str) -> set[str]:
        shipments = [s for s, c in self.deliveries.items() if c == start] if start.startswith("414/") else []
        reached: set[str] = set(shipments)
        items: set[str] = set()
        if start.startswith("shipment:"):
            shipments = [start]
        for s in self.ships:
            if s.shipment in shipments:
                items.add(s.item)
                items |= {y for y in self.contents(s.item, s.at)}
        if not start.startswith(("shipment:", "414/")):
            # A container (or item) itself: everything it ever held.
            items |= {p.item for p in self.packs if p.container == start}
            for t in self.moments():
                items |= self.contents(start, t)
            items.discard(start)
        reached |= items
        for x in items | {start}:
            reached |= self._upstream_of_item(x)
        return reached - {start}
