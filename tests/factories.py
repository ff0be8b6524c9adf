"""Readable facts for tests: ``node("wo:WO-1")``, ``edge(PACKED_IN, dev, case, at=t(1), until=t(5))``."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from schema.identifiers import gs1_check_digit, key_kind
from schema.kinds import EdgeType, NodeKind
from schema.model import EdgeFact, EdgeOp, FactBatch, NodeFact, Provenance

T0 = datetime(2024, 1, 1, tzinfo=UTC)
_line = itertools.count(1)


def t(hours: float) -> datetime:
    """A time ``hours`` after the tests' epoch."""
    return T0 + timedelta(hours=hours)


def prov(source: str = "test.csv") -> Provenance:
    return Provenance(source_system="test", source=source, line=next(_line))


def gtin(item: int) -> str:
    body = f"0950600013{item:03d}"
    return body + gs1_check_digit(body)


def device(serial: str, item: int = 1) -> str:
    return f"01/{gtin(item)}/21/{serial}"


def lot(code: str, item: int = 1) -> str:
    return f"01/{gtin(item)}/10/{code}"


def sscc(n: int) -> str:
    body = f"0950600{n:010d}"
    return f"00/{body}{gs1_check_digit(body)}"


def gln(n: int) -> str:
    body = f"950600{n:06d}"
    return f"414/{body}{gs1_check_digit(body)}"


def node(key: str, kind: NodeKind | None = None, **props: Any) -> NodeFact:
    resolved = kind or key_kind(key)
    assert resolved is not None, f"say the kind of {key}"
    return NodeFact(key=key, kind=resolved, props=props, provenance=prov())


def edge(
    type_: EdgeType,
    source: str,
    target: str,
    *,
    at: datetime | None = None,
    until: datetime | None = None,
    op: EdgeOp = EdgeOp.ASSERT,
    record_id: str | None = None,
    **props: Any,
) -> EdgeFact:
    p = prov()
    if record_id:
        p = p.model_copy(update={"record_id": record_id})
    return EdgeFact(type=type_, source=source, target=target, at=at, until=until, op=op, props=props, provenance=p)


def batch(*facts: NodeFact | EdgeFact, source: str = "test", **kwargs: Any) -> FactBatch:
    return FactBatch(
        source=source,
        nodes=tuple(f for f in facts if isinstance(f, NodeFact)),
        edges=tuple(f for f in facts if isinstance(f, EdgeFact)),
        **kwargs,
    )
