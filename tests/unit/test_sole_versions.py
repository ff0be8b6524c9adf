"""A fact's only version kept in its row, and every history read the same either way.

The SQLite store keeps a node's or edge's first version in its own row while it is the only one
(schema 2) and moves it to ``node_versions`` / ``edge_versions`` when a second version comes;
stores written before keep every version there. Random histories (node properties changed,
packings with and without ends, second witnesses, repeats in one batch, unpackings,
retractions, withdrawn records) are written,
then the same file is turned into the earlier layout, and both must answer every read alike:
node views with their edge histories, traces now and as of every batch, the export.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing, suppress
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.sqlite.store import SQLiteStore
from schema.errors import InvalidInputError, NotFoundError
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import EdgeFact, EdgeOp, FactBatch, NodeFact, TraceDirection, TraceQuery
from tests.factories import batch, device, edge, lot, node, sscc, t

DEVICES = [device(f"S{i}") for i in range(3)]
CASES = [sscc(i) for i in range(1, 3)]
LOT = lot("L1")
RECORDS = ["r0", "r1", "r2", "r3"]
KEYS = [*DEVICES, *CASES, LOT]

records = st.none() | st.sampled_from(RECORDS)
packing = st.builds(
    lambda d, c, start, length, record, qty: edge(
        E.PACKED_IN,
        DEVICES[d],
        CASES[c],
        at=t(start),
        until=None if length is None else t(start + length),
        record_id=record,
        **({"qty": qty} if qty else {}),
    ),
    st.integers(0, 2),
    st.integers(0, 1),
    st.integers(0, 2),
    st.none() | st.integers(1, 3),
    records,
    st.integers(0, 2),
)
unpacking = st.builds(
    lambda d, c, end, record: edge(E.PACKED_IN, DEVICES[d], CASES[c], op=EdgeOp.CLOSE, until=t(end), record_id=record),
    st.integers(0, 2),
    st.integers(0, 1),
    st.integers(1, 6),
    records,
)
inclusion = st.builds(lambda d, record: edge(E.INCLUDES, LOT, DEVICES[d], record_id=record), st.integers(0, 2), records)
retraction = st.builds(
    lambda d, c, start: ("retract", d, c, start), st.integers(0, 2), st.integers(0, 1), st.integers(0, 2)
)
described = st.builds(
    lambda d, colour: node(DEVICES[d], K.DEVICE, **({"colour": colour} if colour else {})),
    st.integers(0, 2),
    st.sampled_from(["", "red", "blue"]),
)
facts = st.lists(packing | unpacking | inclusion | retraction | described, min_size=1, max_size=6)
withdrawal = st.lists(st.sampled_from(RECORDS), min_size=1, max_size=2, unique=True)
histories = st.lists(
    facts.map(lambda f: ("facts", f)) | withdrawal.map(lambda w: ("withdraw", w)), min_size=1, max_size=6
)

SOLE = "sole_source_system, sole_source, sole_line, sole_record_id, sole_record_hash"


def as_batch(step: tuple[str, Any]) -> FactBatch:
    kind, content = step
    if kind == "withdraw":
        return batch(retract_records=tuple(content))
    made: list[NodeFact | EdgeFact] = [node(LOT, K.PRODUCT_LOT), *(node(c, K.CONTAINER) for c in CASES)]
    for fact in content:
        if isinstance(fact, tuple):  # a retraction names a packing the store may or may not hold
            _, d, c, start = fact
            made.append(edge(E.PACKED_IN, DEVICES[d], CASES[c], at=t(start), op=EdgeOp.RETRACT))
        else:
            made.append(fact)
    return batch(*made)


def write(path: Path, history: list[tuple[str, Any]]) -> list[datetime]:
    """Apply the history, skipping batches the store refuses (a retraction of an unknown edge)."""
    times: list[datetime] = []
    with closing(SQLiteStore(path)) as store:
        store.migrate()
        for step in history:
            with suppress(InvalidInputError):
                times.append(store.apply(as_batch(step)).recorded_at)
    return times


def to_earlier_layout(path: Path) -> None:
    """Every version in node_versions and edge_versions, as schema 1 wrote them."""
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT INTO node_versions(node_id, batch_id, recorded_at, props, source_system, source, line, "
            "record_id, record_hash) SELECT node_id, batch_id, recorded_at, props, source_system, source, line, "
            "record_id, record_hash FROM all_node_versions WHERE id IS NULL ORDER BY node_id"
        )
        db.execute(f"UPDATE nodes SET ({SOLE}) = (NULL, NULL, NULL, NULL, NULL)")
        db.execute(
            "INSERT INTO edge_versions(edge_id, batch_id, recorded_at, until, props, retracted, op, asserted_until, "
            "source_system, source, line, record_id, record_hash) "
            "SELECT edge_id, batch_id, recorded_at, until, props, retracted, op, asserted_until, "
            "source_system, source, line, record_id, record_hash FROM all_edge_versions "
            "WHERE id IS NULL ORDER BY edge_id"
        )
        db.execute(f"UPDATE edges SET ({SOLE}) = (NULL, NULL, NULL, NULL, NULL)")
        db.execute("UPDATE batches SET first_node = NULL, last_node = NULL, first_edge = NULL, last_edge = NULL")


def to_schema_1(path: Path) -> None:
    """The file as schema 1 left it: no sole-version columns, no batch ranges, no view."""
    with closing(sqlite3.connect(path)) as db, db:
        for statement in (
            "DROP VIEW all_edge_versions",
            "DROP VIEW all_node_versions",
            "DROP INDEX edges_sole_record",
            "DROP INDEX batches_first_edge",
            "DROP INDEX batches_first_node",
            *(
                f"ALTER TABLE {table} DROP COLUMN {column}"
                for table in ("nodes", "edges")
                for column in SOLE.split(", ")
            ),
            *(
                f"ALTER TABLE batches DROP COLUMN {column}"
                for column in ("first_node", "last_node", "first_edge", "last_edge")
            ),
            "UPDATE meta SET value = '1' WHERE key = 'schema_version'",
        ):
            db.execute(statement)


def answer(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except NotFoundError as exc:
        return str(exc)


def answers(path: Path, times: list[datetime]) -> dict[str, Any]:
    with closing(SQLiteStore(path)) as store:
        out: dict[str, Any] = {"export": list(store.export_batches())}
        for key in KEYS:
            for moment in (None, *times):
                out[f"node {key} {moment}"] = answer(partial(store.node, key, as_of=moment))
                for direction in TraceDirection:
                    query = TraceQuery(starts=(key,), direction=direction, as_of=moment)
                    out[f"trace {key} {direction.value} {moment}"] = answer(partial(store.trace, query))
        return out


def layout_counts(path: Path, table: str = "edges") -> tuple[int, int, int]:
    """(rows, rows holding their version, rows with a version in both places) of nodes or edges."""
    versions, ref = ("edge_versions", "edge_id") if table == "edges" else ("node_versions", "node_id")
    with closing(sqlite3.connect(path)) as db:
        rows, sole, both = db.execute(
            "SELECT count(*), count(sole_source_system), coalesce(sum(sole_source_system IS NOT NULL "
            f"AND EXISTS (SELECT 1 FROM {versions} v WHERE v.{ref} = r.id)), 0) FROM {table} r"
        ).fetchone()
        return rows, sole, both


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories)
def test_both_layouts_answer_alike(history: list[tuple[str, Any]], tmp_path_factory: Any) -> None:
    where = tmp_path_factory.mktemp("layouts")
    written = where / "written.db"
    times = write(written, history)
    for table in ("nodes", "edges"):
        assert not layout_counts(written, table)[2]  # a version is in one place only

    earlier = where / "earlier.db"
    shutil.copy(written, earlier)
    to_earlier_layout(earlier)
    assert layout_counts(earlier, "nodes")[1] == layout_counts(earlier, "edges")[1] == 0
    assert answers(written, times) == answers(earlier, times)

    # Written on, the earlier layout keeps answering as the store written in the new one.
    later = datetime.now(UTC) + timedelta(seconds=1)  # both stores record the same batches alike
    more = as_batch(("facts", [edge(E.PACKED_IN, DEVICES[0], CASES[0], at=t(0), record_id="r9")]))
    more = more.model_copy(update={"batch_id": "more", "recorded_at": later})
    withdraw = batch(retract_records=("r0", "r9"), batch_id="withdraw", recorded_at=later + timedelta(seconds=1))
    for path in (written, earlier):
        with closing(SQLiteStore(path)) as store:
            times_after = [store.apply(more).recorded_at, store.apply(withdraw).recorded_at]
    assert answers(written, times + times_after) == answers(earlier, times + times_after)


def test_an_edge_keeps_its_only_version_in_its_row_until_a_second_comes(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    pack = edge(E.PACKED_IN, DEVICES[0], CASES[0], at=t(1), record_id="evt-1")
    with closing(SQLiteStore(path)) as store:
        store.migrate()
        first = store.apply(batch(pack, edge(E.INCLUDES, LOT, DEVICES[0]), node(LOT, K.PRODUCT_LOT)))
        assert layout_counts(path) == (2, 2, 0)
        then = TraceQuery(starts=(LOT,), as_of=first.recorded_at)
        as_loaded = store.trace(then)
        assert {n.key for n in as_loaded.nodes} >= {DEVICES[0], CASES[0]}
        # A second witness: the first version moves out of the row, before the second.
        store.apply(batch(edge(E.PACKED_IN, DEVICES[0], CASES[0], at=t(1), record_id="evt-2")))
        assert layout_counts(path) == (2, 1, 0)
        (packed,) = store.node(DEVICES[0]).edges_out
        assert [v.provenance.record_id for v in packed.versions] == ["evt-1", "evt-2"]
        assert packed.versions[0].batch_id == first.batch_id
        # Repeated within one batch, a new edge gets both versions in edge_versions, in order.
        again = edge(E.PACKED_IN, DEVICES[1], CASES[0], at=t(2), until=t(4), record_id="evt-3")
        store.apply(batch(edge(E.PACKED_IN, DEVICES[1], CASES[0], at=t(2), record_id="evt-4"), again))
        assert layout_counts(path) == (3, 1, 0)
        (second,) = store.node(DEVICES[1]).edges_out
        assert [(v.provenance.record_id, v.until) for v in second.versions] == [("evt-4", None), ("evt-3", t(4))]
        # An unpacking changes the row: the version it held moves out first.
        store.apply(batch(edge(E.INCLUDES, LOT, DEVICES[0], op=EdgeOp.CLOSE, until=t(3))))
        assert layout_counts(path) == (3, 0, 0)
        (included,) = store.node(LOT).edges_out
        assert [v.until for v in included.versions] == [None, t(3)]
        assert store.trace(then) == as_loaded


def test_a_store_of_schema_1_migrates_and_answers_the_same(tmp_path: Path) -> None:
    history: list[tuple[str, Any]] = [
        ("facts", [edge(E.PACKED_IN, DEVICES[0], CASES[0], at=t(0), record_id="r0"), ("retract", 1, 0, 0)]),
        ("facts", [edge(E.PACKED_IN, DEVICES[1], CASES[1], at=t(1), record_id="r1")]),
        ("facts", [edge(E.PACKED_IN, DEVICES[0], CASES[0], at=t(0), record_id="r2")]),
        ("facts", [edge(E.PACKED_IN, DEVICES[1], CASES[1], op=EdgeOp.CLOSE, until=t(2))]),
        ("withdraw", ["r0"]),
    ]
    written, old = tmp_path / "written.db", tmp_path / "old.db"
    times = write(written, history)
    shutil.copy(written, old)
    to_earlier_layout(old)
    to_schema_1(old)
    with closing(SQLiteStore(old)) as store:
        assert store.schema_version() == 1
        assert store.migrate() == 2
    assert answers(old, times) == answers(written, times)


def test_a_node_keeps_its_only_version_in_its_row_until_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with closing(SQLiteStore(path)) as store:
        store.migrate()
        first = store.apply(batch(node(DEVICES[0], K.DEVICE, colour="red"), node(DEVICES[1], K.DEVICE)))
        assert layout_counts(path, "nodes") == (2, 2, 0)
        store.apply(batch(node(DEVICES[0], K.DEVICE, colour="red")))  # the same fact: no version
        assert layout_counts(path, "nodes") == (2, 2, 0)
        store.apply(batch(node(DEVICES[0], K.DEVICE, size="L")))
        assert layout_counts(path, "nodes") == (2, 1, 0)
        view = store.node(DEVICES[0])
        assert [v.props for v in view.versions] == [{"colour": "red"}, {"size": "L"}]
        assert view.versions[0].batch_id == first.batch_id and view.props == {"colour": "red", "size": "L"}
        assert store.node(DEVICES[0], as_of=first.recorded_at).props == {"colour": "red"}
        # Described twice in one batch, a new node gets both versions in node_versions, in order.
        store.apply(batch(node(DEVICES[2], K.DEVICE, colour="blue"), node(DEVICES[2], K.DEVICE, colour="red")))
        assert layout_counts(path, "nodes") == (3, 1, 0)
        assert [v.props for v in store.node(DEVICES[2]).versions] == [{"colour": "blue"}, {"colour": "red"}]
