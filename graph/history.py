"""How a fact folds into what the store holds; shared by every store.

A node fact merges its properties into the node's and may refine its kind (``merge_node``).

Each recorded version says what one source record did to an edge: asserted it (``assert``),
asserted it again from another record (``support``), ended its interval (``close``), or
retracted it by identity (``retract``). When source records are withdrawn (an EPCIS error
declaration), the edge's state is recomputed from the versions of the records that still
stand, so an edge another record supports survives, and an erroneous unpacking reopens the
interval instead of deleting the packing. ``withdraw`` versions record such recomputations
and are themselves skipped by the fold.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from schema.errors import ConflictError
from schema.kinds import NodeKind, reconcile_kinds
from schema.model import EdgeFact, EdgeOp, NodeFact


def where(fact: NodeFact | EdgeFact) -> str:
    """The source record of ``fact``, as errors name it: ``file:line``."""
    p = fact.provenance
    return p.source + (f":{p.line}" if p.line else "")


def merge_node(fact: NodeFact, kind: str, props: dict[str, Any]) -> tuple[NodeKind, dict[str, Any]] | None:
    """``fact`` applied to a node held as ``kind`` with ``props``: its kind and properties after,
    or None when the fact changes nothing. Raises ConflictError when the kinds cannot be one."""
    reconciled = reconcile_kinds(NodeKind(kind), fact.kind)
    if reconciled is None:
        raise ConflictError(f"{where(fact)}: {fact.key} is a {kind} in the store, this record says {fact.kind.value}")
    merged = {**props, **fact.props}
    if merged == props and reconciled.value == kind:
        return None  # the same fact again is one fact
    return reconciled, merged


class VersionOp:
    ASSERT = "assert"
    SUPPORT = "support"
    CLOSE = "close"
    RETRACT = "retract"
    WITHDRAW = "withdraw"


class Version(NamedTuple):
    op: str
    asserted_until: float | None
    props: str
    record_id: str | None


class EdgeState(NamedTuple):
    present: bool
    until: float | None
    props: str | None


def replay(versions: Iterable[Version], withdrawn: set[str]) -> EdgeState:
    """The state an edge has when the versions of ``withdrawn`` records never happened.

    >>> v = [Version("assert", None, "{}", "pack"), Version("close", 5.0, "{}", "unpack")]
    >>> replay(v, set())
    EdgeState(present=True, until=5.0, props='{}')
    >>> replay(v, {"unpack"})
    EdgeState(present=True, until=None, props='{}')
    >>> replay(v, {"pack"}).present
    False
    """
    present, until, props = False, None, None
    for op, asserted_until, vprops, record_id in versions:
        if op == VersionOp.WITHDRAW or (record_id is not None and record_id in withdrawn):
            continue
        if op in (VersionOp.ASSERT, VersionOp.SUPPORT):
            present, props = True, vprops
            if asserted_until is not None:
                until = asserted_until
        elif op == VersionOp.CLOSE:
            until = asserted_until
        elif op == VersionOp.RETRACT:
            present = False
    return EdgeState(present, until, props)


#: How each kind of version is replayed into another store by ``export_batches``: a support
#: is an assertion from another record (the target keeps it as support); withdrawals are
#: recomputed by the target from the batch's ``retract_records``.
EXPORT_OPS = {
    VersionOp.ASSERT: EdgeOp.ASSERT,
    VersionOp.SUPPORT: EdgeOp.ASSERT,
    VersionOp.CLOSE: EdgeOp.CLOSE,
    VersionOp.RETRACT: EdgeOp.RETRACT,
}
