"""The walks over the compact graph (compiled, and numpy's level at a time) keep exactly the
states the state-by-state rule keeps, and their deferred results behave as results built eagerly."""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graph.trace
from graph.sqlite.store import SQLiteStore
from graph.trace import (
    CompactGraph,
    _contained_in_earlier,
    _dedupe,
    _Intervals,
    _sorted_unique,
    _trace_kernel,
    _walk_compact,
    _walk_compiled,
    _walk_kernel,
    warm_walk,
)
from schema.errors import InvalidInputError
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import (
    EdgeFact,
    FactBatch,
    NodeFact,
    TimeWindow,
    TraceDirection,
    TraceQuery,
    TraceResult,
    to_epoch,
)
from tests.conformance.plants import HOSPITAL_1, SUPPLIER, repack_plant
from tests.factories import batch, device, edge, gln, lot, node, sscc, t

INF = float("inf")
KERNELS = ["numba", "numpy"]
ROOT = Path(__file__).resolve().parents[2]
Seen = dict[int, list[tuple[float, float]]]
#: Interval ends from a small set, so that equal, nested and overlapping intervals all occur.
ENDS = [-INF, 0.0, 1.0, 2.0, 3.0, 4.0, INF]


@st.composite
def intervals(draw: st.DrawFn) -> tuple[float, float]:
    lo = draw(st.integers(0, len(ENDS) - 2))
    return ENDS[lo], ENDS[draw(st.integers(lo + 1, len(ENDS) - 1))]


def state_by_state(
    nodes: list[int], bound: list[bool], intervals: list[tuple[float, float]], free: set[int], seen: Seen
) -> list[int]:
    """The rule of graph.trace.run_trace's loop, one candidate at a time."""
    kept = []
    for i, (node_, is_bound, interval) in enumerate(zip(nodes, bound, intervals, strict=True)):
        if node_ in free:
            continue
        known = seen.get(node_)
        if is_bound and known is not None and any(v[0] <= interval[0] and interval[1] <= v[1] for v in known):
            continue
        kept.append(i)
        if not is_bound:
            free.add(node_)
        else:
            seen.setdefault(node_, []).append(interval)
    return kept


@st.composite
def levels(draw: st.DrawFn) -> tuple[list[int], list[bool], list[tuple[float, float]], set[int], Seen]:
    size = draw(st.integers(0, 40))
    nodes = draw(st.lists(st.integers(0, 5), min_size=size, max_size=size))
    bound = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    pairs = draw(st.lists(intervals(), min_size=size, max_size=size))
    free = set(draw(st.lists(st.integers(0, 5), max_size=2)))
    seen: Seen = {}
    for node_, interval in draw(st.lists(st.tuples(st.integers(0, 5), intervals()), max_size=8)):
        if node_ not in free:
            seen.setdefault(node_, []).append(interval)
    return nodes, bound, pairs, free, seen


@settings(max_examples=400, deadline=None)
@given(level=levels())
def test_a_level_keeps_the_states_the_state_by_state_rule_keeps(
    level: tuple[list[int], list[bool], list[tuple[float, float]], set[int], Seen],
) -> None:
    nodes, bound, intervals, free, seen = level
    free_mask = np.zeros(6, dtype=bool)
    free_mask[list(free)] = True
    known = _Intervals()
    for node_, spans in seen.items():
        known.add(np.full(len(spans), node_), np.array([s[0] for s in spans]), np.array([s[1] for s in spans]))
    kept = _dedupe(
        np.asarray(nodes, dtype=np.int64),
        np.asarray(bound, dtype=bool),
        np.array([i[0] for i in intervals]),
        np.array([i[1] for i in intervals]),
        free_mask,
        known,
    )
    expected = state_by_state(nodes, bound, intervals, set(free), {k: list(v) for k, v in seen.items()})
    assert kept.tolist() == expected


def test_an_interval_may_be_contained_only_in_one_between_the_extremes() -> None:
    # [1, 2) is in [1, 3) only: not in [0, 1), which starts earliest, nor in [2, 4), which ends latest.
    lo, hi = np.array([0.0, 2.0, 1.0, 1.0]), np.array([1.0, 4.0, 3.0, 2.0])
    assert _contained_in_earlier(np.zeros(4, dtype=np.int64), lo, hi).tolist() == [False, False, False, True]
    # The same four, the middle one last: nothing earlier holds [1, 2).
    order = [0, 1, 3, 2]
    assert _contained_in_earlier(np.zeros(4, dtype=np.int64), lo[order], hi[order]).tolist() == [False] * 4
    # Runs do not see each other.
    group = np.array([0, 0, 0, 1], dtype=np.int64)
    assert _contained_in_earlier(group, lo[order], hi[order]).tolist() == [False] * 4


@st.composite
def packed_plants(draw: st.DrawFn) -> FactBatch:
    """Many devices in few cases and pallets, packing intervals drawn from a few hours (equal,
    nested and overlapping ones), cases and pallets shipped at drawn times."""
    n_devices = draw(st.integers(2, 14))
    devices = [device(f"S{i}") for i in range(n_devices)]
    cases = [sscc(i + 1) for i in range(draw(st.integers(1, 3)))]
    pallets = [sscc(100 + i) for i in range(draw(st.integers(1, 2)))]
    hour = st.integers(1, 6)
    facts: list[NodeFact | EdgeFact] = [node(lot("P1"), K.PRODUCT_LOT)]
    facts += [node(d, K.DEVICE) for d in devices]
    facts += [node(c, K.CONTAINER) for c in cases + pallets]
    facts += [edge(E.INCLUDES, lot("P1"), d, at=t(0)) for d in devices]
    packed = set()
    for item, into in draw(
        st.lists(st.tuples(st.sampled_from(devices + cases), st.sampled_from(cases + pallets)), max_size=30)
    ):
        if item == into or (item in cases and into in cases):
            continue
        start, length = draw(hour), draw(st.one_of(st.none(), st.integers(1, 5)))
        if (item, into, start) in packed:
            continue
        packed.add((item, into, start))
        facts.append(edge(E.PACKED_IN, item, into, at=t(start), until=None if length is None else t(start + length)))
    for i, container in enumerate(draw(st.lists(st.sampled_from(cases + pallets), max_size=4))):
        shipment = f"shipment:SH{i}"
        facts += [node(shipment, K.SHIPMENT), node(gln(i + 1), K.CONSIGNEE)]
        facts.append(edge(E.SHIPPED_IN, container, shipment, at=t(draw(hour) + 0.5)))
        facts.append(edge(E.DELIVERED_TO, shipment, gln(i + 1), at=t(8)))
    return batch(*facts)


def _queries(starts: list[str], direction: TraceDirection) -> list[TraceQuery]:
    window = TimeWindow(start=t(2), end=t(4))
    return [
        TraceQuery(starts=tuple(starts), direction=direction),
        TraceQuery(starts=tuple(starts), direction=direction, window=window),
        TraceQuery(starts=tuple(starts), direction=direction, ignore_time=True),
        TraceQuery(starts=tuple(starts), direction=direction, limit=3, kinds=frozenset({K.DEVICE, K.CONTAINER})),
        TraceQuery(starts=tuple(starts), direction=direction, max_depth=2),
    ]


@contextmanager
def kernel(name: str) -> Iterator[None]:
    """Traces in the block walk with ``name`` (what TRACEGRAPH_TRACE_KERNEL selects at import)."""
    chosen = graph.trace.TRACE_KERNEL
    graph.trace.TRACE_KERNEL = name
    try:
        yield
    finally:
        graph.trace.TRACE_KERNEL = chosen


@pytest.mark.parametrize("name", KERNELS)
@settings(max_examples=40, deadline=None)
@given(plant=packed_plants())
def test_packed_plants_answer_as_the_sql_path_at_every_state_limit(name: str, plant: FactBatch) -> None:
    with (
        kernel(name),
        tempfile.TemporaryDirectory() as tmp,
        closing(SQLiteStore(Path(tmp) / "s.db")) as indexed,
        closing(SQLiteStore(Path(tmp) / "s.db", traversal_index=False)) as plain,
    ):
        indexed.migrate()
        indexed.apply(plant)
        ends = sorted(n.key for n in plant.nodes if n.kind in (K.CONSIGNEE, K.SHIPMENT))
        cases = sorted(n.key for n in plant.nodes if n.kind is K.CONTAINER)
        queries = _queries([lot("P1")], TraceDirection.FORWARD) + _queries(cases[:1], TraceDirection.FORWARD)
        if ends:
            queries += _queries(ends, TraceDirection.BACKWARD)
        for query in queries:
            fast, slow = indexed.trace(query), plain.trace(query)
            assert fast.to_json() == slow.to_json(), query
            assert fast.counts_by_kind() == slow.counts_by_kind()
            assert fast.node_keys() == slow.node_keys()
            assert fast == slow
        # A state limit cuts both walks at the same state, whichever level it falls in.
        query = queries[0]
        for limit in range(1, 2 * (indexed.trace(query).total + 2)):
            assert indexed.trace(query, max_states=limit).to_json() == plain.trace(query, max_states=limit).to_json()


@settings(max_examples=60, deadline=None)
@given(plant=packed_plants(), data=st.data())
def test_the_compiled_walk_makes_the_numpy_walks_arrays(plant: FactBatch, data: st.DataObject) -> None:
    # Same states in the same order, same parents, first visits, degrees and edges, cut at
    # the same state by every limit: the result built after either walk is the same.
    with tempfile.TemporaryDirectory() as tmp, closing(SQLiteStore(Path(tmp) / "s.db")) as store:
        store.migrate()
        store.apply(plant)
        keys = sorted(n.key for n in plant.nodes)
        starts = data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True))
        direction = data.draw(st.sampled_from(list(TraceDirection)))
        found = store.compact_traversal(starts, direction)
        assert found is not None
        index, positions = cast(tuple[CompactGraph, list[int]], found)
        start_kinds = [index.kind_codes[index.kinds[p]] for p in positions]
        for query in _queries(starts, direction):
            window = None
            if query.window is not None:  # as run_trace makes it
                lo, hi = to_epoch(query.window.start), to_epoch(query.window.end)
                assert lo is not None and hi is not None
                window = (lo, math.nextafter(hi, INF))
            for limit in (None, *range(1, 12)):
                numpy_walk = _walk_compact(index, positions, start_kinds, window, query, limit, None)
                compiled = _walk_compiled(index, positions, start_kinds, window, query, limit, None)
                for field in fields(numpy_walk):
                    expected, got = getattr(numpy_walk, field.name), getattr(compiled, field.name)
                    assert np.array_equal(got, expected), (field.name, query, limit)


@settings(max_examples=80, deadline=None)
@given(
    size=st.integers(0, 5_000),
    bound=st.integers(1, 2**40),
    seed=st.integers(0, 2**32 - 1),
    low_bits=st.integers(0, 44),
)
def test_edge_codes_come_out_sorted_and_distinct(size: int, bound: int, seed: int, low_bits: int) -> None:
    rng = np.random.default_rng(seed)
    # Few distinct values as often as many, and runs that share their high digits; the radix
    # sort over the bits above ``low_bits`` leaves runs of equal high bits to sort on their own.
    values = rng.integers(0, min(bound, int(rng.integers(1, 2 * size + 2))), size=size, dtype=np.int64)
    values = bound - 1 - values if seed % 2 else values
    assert _sorted_unique(values.copy(), bound, low_bits).tolist() == np.unique(values).tolist()


def test_a_passed_deadline_leaves_a_partial_walk_of_the_starts(tmp_path: Path) -> None:
    with closing(SQLiteStore(tmp_path / "s.db")) as store:
        store.migrate()
        store.apply(repack_plant())
        query = TraceQuery(starts=(SUPPLIER,))
        for name in KERNELS:
            with kernel(name):
                cut = store.trace(query, deadline=0.0)
            assert cut.is_partial and cut.total == 0, name
            assert not store.trace(query).is_partial


def test_the_kernel_is_chosen_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACEGRAPH_TRACE_KERNEL", raising=False)
    assert _trace_kernel() == "numba"  # installed with the project
    monkeypatch.setenv("TRACEGRAPH_TRACE_KERNEL", "NumPy ")
    assert _trace_kernel() == "numpy"
    monkeypatch.setenv("TRACEGRAPH_TRACE_KERNEL", "cuda")
    with pytest.raises(InvalidInputError, match="numba or numpy"):
        _trace_kernel()


def test_the_warm_up_compiles_the_signature_traces_use(tmp_path: Path) -> None:
    warm_walk()
    compiled = list(_walk_kernel.signatures)
    assert len(compiled) == 1
    with closing(SQLiteStore(tmp_path / "s.db")) as store, kernel("numba"):
        store.migrate()
        store.apply(repack_plant())
        assert store.trace(TraceQuery(starts=(SUPPLIER,))).total > 0
        assert store.trace(TraceQuery(starts=(HOSPITAL_1,), direction=TraceDirection.BACKWARD)).total > 0
    assert list(_walk_kernel.signatures) == compiled  # nothing compiled on a trace


def _trace_in_a_process(env: dict[str, str], *, without_numba: bool = False) -> str:
    program = (
        ("import sys; sys.modules['numba'] = None  # import numba: ImportError\n" if without_numba else "")
        + "import graph.trace, tempfile, pathlib\n"
        "from contextlib import closing\n"
        "from graph.sqlite.store import SQLiteStore\n"
        "from schema.model import TraceQuery\n"
        "from tests.conformance.plants import SUPPLIER, repack_plant\n"
        "with tempfile.TemporaryDirectory() as tmp, closing(SQLiteStore(pathlib.Path(tmp) / 's.db')) as store:\n"
        "    store.migrate()\n"
        "    store.apply(repack_plant())\n"
        "    print(graph.trace.TRACE_KERNEL, store.trace(TraceQuery(starts=(SUPPLIER,))).to_json())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_without_a_writable_cache_the_walk_compiles_in_memory() -> None:
    # numba's only cache location here is a directory that cannot be created (a read-only
    # install): tracing still works, compiled, and answers as the numpy walk.
    unwritable = {"NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator", "NUMBA_CACHE_DIR": "/proc/tracegraph"}
    compiled = _trace_in_a_process({**unwritable, "TRACEGRAPH_TRACE_KERNEL": "numba"})
    fallback = _trace_in_a_process({"TRACEGRAPH_TRACE_KERNEL": "numpy"})
    assert compiled.startswith("numba ") and fallback.startswith("numpy ")
    assert compiled.split(" ", 1)[1] == fallback.split(" ", 1)[1]


def test_without_numba_the_numpy_walk_runs() -> None:
    env = {"TRACEGRAPH_TRACE_KERNEL": ""}
    assert _trace_in_a_process(env, without_numba=True) == _trace_in_a_process(env).replace("numba ", "numpy ", 1)
    with pytest.raises(subprocess.CalledProcessError) as refused:
        _trace_in_a_process({"TRACEGRAPH_TRACE_KERNEL": "numba"}, without_numba=True)
    assert "numba cannot be imported" in refused.value.stderr


def test_a_deferred_result_behaves_as_an_eager_one(tmp_path: Path) -> None:
    with (
        closing(SQLiteStore(tmp_path / "s.db")) as indexed,
        closing(SQLiteStore(tmp_path / "s.db", traversal_index=False)) as plain,
    ):
        indexed.migrate()
        indexed.apply(repack_plant())
        for direction, start in ((TraceDirection.FORWARD, SUPPLIER), (TraceDirection.BACKWARD, HOSPITAL_1)):
            query = TraceQuery(starts=(start,), direction=direction)
            eager = plain.trace(query)
            # Everything a caller may do first, each on a fresh deferred result.
            assert indexed.trace(query).to_json() == eager.to_json()
            assert indexed.trace(query).counts_by_kind() == eager.counts_by_kind()
            assert indexed.trace(query).node_keys() == [n.key for n in eager.nodes]
            assert indexed.trace(query) == eager
            assert eager == indexed.trace(query)
            assert hash(indexed.trace(query)) == hash(eager)
            assert indexed.trace(query).model_dump() == eager.model_dump()
            assert indexed.trace(query).model_dump_json() == eager.model_dump_json()
            assert TraceResult.model_validate_json(indexed.trace(query).model_dump_json()) == eager
            assert pickle.loads(pickle.dumps(indexed.trace(query))) == eager
            assert dict(indexed.trace(query)) == dict(eager)
            assert indexed.trace(query).model_copy(update={"total": 0}).nodes == eager.nodes
            deferred = indexed.trace(query)
            assert deferred.nodes is deferred.nodes  # built once
            assert deferred.edges == eager.edges
            assert repr(deferred) == repr(eager)


def test_a_window_ending_before_the_packing_keeps_the_start_only(tmp_path: Path) -> None:
    with closing(SQLiteStore(tmp_path / "s.db")) as store:
        store.migrate()
        store.apply(repack_plant())
        window = TimeWindow(start=t(-100), end=t(-100) + timedelta(hours=1))
        before = store.trace(TraceQuery(starts=(sscc(1),), window=window))
        assert before.total == 0 and before.nodes == () and before.edges == ()
