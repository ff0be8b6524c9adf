"""One measurement per process, so each reports its own peak memory.

    python -m bench.workers TASK '{"json": "arguments"}'

prints one JSON object: the task's figures and ``peak_rss_mb`` (``ru_maxrss`` of the process,
which includes the interpreter, the imports and, for loads, the parsed plant). Run by
``bench.run``; every task is also usable by hand.
"""

from __future__ import annotations

import gc
import itertools
import resource
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson

from graph.sqlite.store import SQLiteStore
from graph.trace import walk_compact
from schema.kinds import TRACED_EDGES
from schema.model import FactBatch, TraceDirection, TraceQuery, TraceResult

Queries = dict[str, dict[str, list[str]]]  # class -> direction -> starts
TRACED = sorted(t.value for t in TRACED_EDGES)


#: Cheap runs continue past ``rounds`` until they took this long (up to ``MAX_RUNS``), so a
#: sub-millisecond query's p95 is a percentile, not the slowest of a handful of runs.
MIN_TIME = 0.2
MAX_RUNS = 200


def timings(
    run: Callable[[], object],
    *,
    rounds: int,
    budget: float,
    warmup: int = 1,
    min_runs: int = 3,
    setup: Callable[[], object] | None = None,
) -> dict[str, Any]:
    """Median and p95 of ``run`` over ``rounds`` runs after ``warmup`` (at least ``min_runs``;
    fewer than ``rounds`` once they took ``budget`` seconds; more, up to ``MAX_RUNS``, while
    they took less than ``MIN_TIME``). ``setup`` runs untimed before each. The warm-up runs'
    times are kept apart (``warmup``): for a load, the first into a new file or database."""
    samples: list[float] = []
    warmups: list[float] = []
    began = time.perf_counter()
    for i in itertools.count():
        timed, spent = i - warmup, time.perf_counter() - began
        if timed >= min_runs and spent > budget:
            break
        if timed >= rounds and (spent >= MIN_TIME or timed >= MAX_RUNS):
            break
        if setup is not None:
            setup()
        started = time.perf_counter()
        run()
        elapsed = time.perf_counter() - started
        (samples if i >= warmup else warmups).append(elapsed)
    return {**summary(samples), "warmup": warmups}


def alternating(
    first: Callable[[], object], second: Callable[[], object], *, rounds: int, budget: float, min_runs: int = 3
) -> tuple[dict[str, Any], dict[str, Any]]:
    """:func:`timings` of two runs taken in turns (which goes first alternates), for a ratio
    that other work on the machine slows alike; both already warmed up."""
    samples: tuple[list[float], list[float]] = ([], [])
    began = time.perf_counter()
    for i in range(rounds):
        if i >= min_runs and time.perf_counter() - began > budget:
            break
        for which in (0, 1) if i % 2 == 0 else (1, 0):
            started = time.perf_counter()
            (first, second)[which]()
            samples[which].append(time.perf_counter() - started)
    return summary(samples[0]), summary(samples[1])


def summary(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    # p95 by linear interpolation between the closest ranks (numpy's default).
    rank = 0.95 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    p95 = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return {"median": statistics.median(ordered), "p95": p95, "n": len(ordered), "samples": samples}


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ``ru_maxrss``: Linux carries the latter
    over exec from the forked parent, so every worker would report at least the runner's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def parse_plant(plant_dir: str) -> tuple[FactBatch, float]:
    from loaders import parse_paths

    started = time.perf_counter()
    parsed = parse_paths([Path(plant_dir)])
    if parsed.rejects:
        raise SystemExit(f"{len(parsed.rejects)} rejects in {plant_dir}: {parsed.rejects[0]}")
    batch = FactBatch(source=f"bench {plant_dir}", nodes=tuple(parsed.nodes), edges=tuple(parsed.edges))
    return batch, time.perf_counter() - started


def _fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# -- loads ---------------------------------------------------------------------------------


def load_sqlite(
    plant_dir: str, db: str, rounds: int, budget: float, min_runs: int = 3, warmup: int = 1
) -> dict[str, Any]:
    """``SQLiteStore.apply`` of the whole parsed plant into a fresh file, per run."""
    batch, parse_s = parse_plant(plant_dir)
    path = Path(db)

    def setup() -> None:
        _fresh(path)
        with SQLiteStore(path) as store:
            store.migrate()

    def run() -> None:
        with SQLiteStore(path) as store:
            store.apply(batch)

    figures = timings(run, rounds=rounds, budget=budget, warmup=warmup, min_runs=min_runs, setup=setup)
    return {"parse_s": parse_s, "nodes": len(batch.nodes), "edges": len(batch.edges), "load": figures}


def load_raw(plant_dir: str, db: str, rounds: int, budget: float, min_runs: int = 3, warmup: int = 1) -> dict[str, Any]:
    """The raw ``executemany`` baseline (bench/raw_sqlite.py) of the same rows, per run."""
    from bench.raw_sqlite import raw_load

    batch, _ = parse_plant(plant_dir)
    path = Path(db)
    figures = timings(
        lambda: raw_load(path, batch),
        rounds=rounds,
        budget=budget,
        warmup=warmup,
        min_runs=min_runs,
        setup=lambda: _fresh(path),
    )
    _fresh(path)
    return {"edges": len(batch.edges), "load": figures}


def _row_counts(db: Path) -> dict[str, int]:
    """Rows per fact table, and the versions held in node and edge rows: the embedded load and
    its baseline must write the same."""
    with closing(sqlite3.connect(db)) as con:
        tables = ("nodes", "node_versions", "edges", "edge_versions")
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        for table in ("nodes", "edges"):
            held = con.execute(f"SELECT count(sole_source_system) FROM {table}").fetchone()[0]
            counts[f"versions held in {table}"] = held
        return counts


def load_embedded(
    plant_dir: str, db: str, raw_db: str, rounds: int, budget: float, min_runs: int = 3, warmup: int = 1
) -> dict[str, Any]:
    """The embedded load and its raw baseline, A/B in one process: the plant is parsed once,
    then ``SQLiteStore.apply`` and :func:`bench.raw_sqlite.raw_load` alternate (which goes first
    alternates too), each into a fresh file, so a busy machine slows both alike. Each run's
    ratio is its pair's; after each embedded load, the traversal index is built (untimed by
    the load) to show what a first trace then costs. The last embedded load is left at ``db``."""
    from bench.raw_sqlite import raw_load

    batch, parse_s = parse_plant(plant_dir)
    # The parsed plant is input, not work: out of the collector's sight, no load pays for
    # a full collection of it.
    gc.collect()
    gc.freeze()
    path, raw_path = Path(db), Path(raw_db)
    samples: dict[str, list[float]] = {"sqlite": [], "raw": [], "ratio": [], "index": []}

    def embedded() -> float:
        _fresh(path)
        with SQLiteStore(path) as store:
            store.migrate()
        with closing(SQLiteStore(path)) as store:
            started = time.perf_counter()
            store.apply(batch)
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            store.traversal_index()
            samples["index"].append(time.perf_counter() - started)
        return elapsed

    def raw() -> float:
        _fresh(raw_path)
        started = time.perf_counter()
        raw_load(raw_path, batch)
        return time.perf_counter() - started

    began = time.perf_counter()
    for i in range(warmup + rounds):
        if i >= warmup + min_runs and time.perf_counter() - began > budget:
            break
        if i % 2 == 0:
            ours = embedded()
            base = raw()
        else:
            base = raw()
            ours = embedded()
        if i < warmup:
            samples["index"].pop()
            continue
        samples["sqlite"].append(ours)
        samples["raw"].append(base)
        samples["ratio"].append(ours / base)
    counts = [_row_counts(p) for p in (path, raw_path)]
    _fresh(raw_path)  # the last embedded load stays, for the traces
    return {
        "parse_s": parse_s,
        "nodes": len(batch.nodes),
        "edges": len(batch.edges),
        "rows": counts[0],
        "same_rows_as_raw": counts[0] == counts[1],
        **{name: summary(values) for name, values in samples.items()},
    }


def load_neo4j(
    plant_dir: str, url: str, rounds: int, budget: float, min_runs: int = 2, warmup: int = 0
) -> dict[str, Any]:
    """``Neo4jStore.apply`` of the whole parsed plant into an emptied database, per run."""
    from graph.neo4j.store import Neo4jStore

    batch, _ = parse_plant(plant_dir)
    store = Neo4jStore.from_url(url)

    def setup() -> None:
        store.wipe()
        store.migrate()

    try:
        # A warm-up run on the first plant only: the server then has compiled every query.
        figures = timings(
            lambda: store.apply(batch), rounds=rounds, budget=budget, warmup=warmup, min_runs=min_runs, setup=setup
        )
        stats = store.stats()
    finally:
        store.close()
    return {"edges": len(batch.edges), "stored_edges": stats.edges, "load": figures}


# -- traces --------------------------------------------------------------------------------


def _query(starts: list[str], direction: str) -> TraceQuery:
    return TraceQuery(starts=tuple(starts), direction=TraceDirection(direction))


def trace_sqlite(db: str, queries: Queries, rounds: int, budget: float, min_runs: int = 3) -> dict[str, Any]:
    """TraceGraph's embedded trace (the in-memory index), and the per-hop SQL path once."""
    out: dict[str, Any] = {}
    with closing(SQLiteStore(db)) as store, closing(SQLiteStore(db, traversal_index=False)) as sql_only:
        started = time.perf_counter()
        index = store.traversal_index()
        assert index is not None
        out["index"] = {
            "build_s": time.perf_counter() - started,
            "edges": index.edge_count,
            "nodes": index.node_count,
            "array_bytes": index.nbytes,
            "bytes_per_edge": index.nbytes / max(index.edge_count, 1),
            "key_bytes": sum(sys.getsizeof(k) for k in index.keys) + sys.getsizeof(index.keys),
        }
        for name, by_direction in queries.items():
            for direction, starts in by_direction.items():
                query = _query(starts, direction)
                result = store.trace(query)  # the warm-up, and the answer to check
                figures = timings(
                    lambda q=query: store.trace(q),  # type: ignore[misc]
                    rounds=rounds,
                    budget=budget,
                    warmup=0,
                    min_runs=min_runs,
                )
                # The walk alone: the same BFS without turning what it found into a TraceResult.
                found = store.compact_traversal(query.starts, query.direction)
                assert found is not None
                graph, positions = found
                kinds = [store.kinds(query.starts)[k] for k in query.starts]
                walk = timings(  # warmed up by the traces above
                    lambda q=query, g=graph, p=positions, k=kinds: walk_compact(g, p, k, None, q),  # type: ignore[misc]
                    rounds=rounds,
                    budget=budget,
                    warmup=0,
                    min_runs=min_runs,
                )
                # The same call, then every node and edge object read (built on first access), or
                # the answer as JSON bytes (what the REST trace endpoint sends).
                objects = timings(
                    lambda q=query: _read_objects(store.trace(q)),  # type: ignore[misc]
                    rounds=rounds,
                    budget=budget,
                    warmup=0,
                    min_runs=min_runs,
                )
                as_json = timings(
                    lambda q=query: orjson.dumps(store.trace(q).to_json()),  # type: ignore[misc]
                    rounds=rounds,
                    budget=budget,
                    warmup=0,
                    min_runs=min_runs,
                )
                started = time.perf_counter()
                slow = sql_only.trace(query)
                sql_path_s = time.perf_counter() - started
                same = slow.to_json() == result.to_json()
                out[f"{name}/{direction}"] = {
                    **figures,
                    "reached": result.total,
                    "edges": len(result.edges),
                    "walk": walk,
                    "objects": objects,
                    "json": as_json,
                    "sql_path_s": sql_path_s,
                    "same_as_sql_path": same,
                }
    return out


def _read_objects(result: TraceResult) -> int:
    return len(result.nodes) + len(result.edges)


def trace_neo4j(url: str, queries: Queries, rounds: int, budget: float, min_runs: int = 3) -> dict[str, Any]:
    """TraceGraph's Neo4j adapter trace, and a hand-written variable-length Cypher query."""
    from graph.neo4j.store import Neo4jStore

    rels = "|".join(TRACED)
    # One start per row: from ``WHERE s.key IN $keys`` Neo4j 5.26 drops the DISTINCT and
    # returns a node once per start that reaches it (twice the rows on the supplier class).
    start = "UNWIND $keys AS k MATCH (s:Node {key: k})"
    cypher = {
        "forward": f"{start} MATCH (s)-[:{rels}*]->(n:Node) RETURN DISTINCT n.key AS key",
        "backward": f"{start} MATCH (s)<-[:{rels}*]-(n:Node) RETURN DISTINCT n.key AS key",
    }
    out: dict[str, Any] = {}
    store = Neo4jStore.from_url(url)
    driver = store._driver  # the adapter's own driver: same connection pool for both

    def hand(direction: str, starts: list[str]) -> list[str]:
        records, _, _ = driver.execute_query(cypher[direction], {"keys": starts}, database_=store.database)
        return [r["key"] for r in records]

    try:
        for name, by_direction in queries.items():
            for direction, starts in by_direction.items():
                query = _query(starts, direction)
                result = store.trace(query)  # the warm-ups
                reached = len(set(hand(direction, starts)) - set(starts))
                adapter, plain = alternating(
                    lambda q=query: store.trace(q),  # type: ignore[misc]
                    lambda d=direction, s=starts: hand(d, s),  # type: ignore[misc]
                    rounds=rounds,
                    budget=2 * budget,
                    min_runs=min_runs,
                )
                started = time.perf_counter()
                store.compact_traversal(query.starts, query.direction)
                adapter["fetch_s"] = time.perf_counter() - started  # the one query, once
                out[f"{name}/{direction}"] = {
                    "adapter": {**adapter, "reached": result.total},
                    "cypher": {**plain, "reached": reached},
                }
    finally:
        store.close()
    return out


def _sqlite_graph(db: str) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    """Node keys, kinds and (source, target) positions of every traced, unretracted edge."""
    con = sqlite3.connect(db)
    try:
        nodes = con.execute("SELECT id, key, kind FROM nodes ORDER BY id").fetchall()
        position = {node_id: i for i, (node_id, _k, _t) in enumerate(nodes)}
        marks = ",".join("?" * len(TRACED))
        rows = con.execute(f"SELECT src, dst FROM edges WHERE retracted = 0 AND type IN ({marks})", TRACED).fetchall()
    finally:
        con.close()
    return [k for _i, k, _t in nodes], [t for _i, _k, t in nodes], [(position[a], position[b]) for a, b in rows]


def peers_igraph(db: str, queries: Queries, rounds: int, budget: float) -> dict[str, Any]:
    """In-memory BFS in C (igraph ``subcomponent``), node keys out: the near-hardware baseline."""
    import igraph as ig  # type: ignore[import-untyped]

    keys, _kinds, edges = _sqlite_graph(db)
    started = time.perf_counter()
    graph = ig.Graph(n=len(keys), edges=edges, directed=True)
    build_s = time.perf_counter() - started
    index = {k: i for i, k in enumerate(keys)}
    del edges
    gc.collect()

    def reach(starts: list[str], direction: str) -> list[str]:
        mode = "out" if direction == "forward" else "in"
        found: set[int] = set()
        for s in starts:
            found.update(graph.subcomponent(index[s], mode=mode))
        found.difference_update(index[s] for s in starts)
        return [keys[i] for i in found]

    out: dict[str, Any] = {"build_s": build_s}
    for name, by_direction in queries.items():
        for direction, starts in by_direction.items():
            reached = len(reach(starts, direction))  # the warm-up
            figures = timings(lambda s=starts, d=direction: reach(s, d), rounds=rounds, budget=budget, warmup=0)  # type: ignore[misc]
            out[f"{name}/{direction}"] = {**figures, "reached": reached}
    return out


def peers_networkx(db: str, queries: Queries, rounds: int, budget: float) -> dict[str, Any]:
    """networkx ``descendants``/``ancestors`` on a DiGraph keyed by node keys."""
    import networkx as nx

    keys, _kinds, edges = _sqlite_graph(db)
    started = time.perf_counter()
    graph = nx.DiGraph()
    graph.add_nodes_from(keys)
    graph.add_edges_from((keys[a], keys[b]) for a, b in edges)
    build_s = time.perf_counter() - started
    del edges

    def reach(starts: list[str], direction: str) -> set[str]:
        step = nx.descendants if direction == "forward" else nx.ancestors
        found: set[str] = set()
        for s in starts:
            found |= step(graph, s)
        return found - set(starts)

    out: dict[str, Any] = {"build_s": build_s}
    for name, by_direction in queries.items():
        for direction, starts in by_direction.items():
            reached = len(reach(starts, direction))  # the warm-up
            figures = timings(lambda s=starts, d=direction: reach(s, d), rounds=rounds, budget=budget, warmup=0)  # type: ignore[misc]
            out[f"{name}/{direction}"] = {**figures, "reached": reached}
    return out


def peers_cte(db: str, queries: Queries, rounds: int, budget: float) -> dict[str, Any]:
    """A hand-written recursive CTE over the store's own tables and indexes."""
    marks = ",".join("?" * len(TRACED))
    step = {
        "forward": "SELECT e.dst FROM edges e JOIN r ON e.src = r.id",
        "backward": "SELECT e.src FROM edges e JOIN r ON e.dst = r.id",
    }
    con = sqlite3.connect(db)

    def reach(starts: list[str], direction: str) -> list[str]:
        sql = f"""
            WITH RECURSIVE r(id) AS (
                SELECT id FROM nodes WHERE key IN ({",".join("?" * len(starts))})
                UNION {step[direction]} WHERE e.retracted = 0 AND e.type IN ({marks})
            )
            SELECT n.key FROM r JOIN nodes n ON n.id = r.id
        """
        return [k for (k,) in con.execute(sql, (*starts, *TRACED)) if k not in starts]

    out: dict[str, Any] = {}
    try:
        for name, by_direction in queries.items():
            for direction, starts in by_direction.items():
                reached = len(reach(starts, direction))  # the warm-up
                figures = timings(lambda s=starts, d=direction: reach(s, d), rounds=rounds, budget=budget, warmup=0)  # type: ignore[misc]
                out[f"{name}/{direction}"] = {**figures, "reached": reached}
    finally:
        con.close()
    return out


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "load-sqlite": load_sqlite,
    "load-raw": load_raw,
    "load-embedded": load_embedded,
    "load-neo4j": load_neo4j,
    "trace-sqlite": trace_sqlite,
    "trace-neo4j": trace_neo4j,
    "peers-igraph": peers_igraph,
    "peers-networkx": peers_networkx,
    "peers-cte": peers_cte,
}


def main() -> None:
    task, args = sys.argv[1], orjson.loads(sys.argv[2])
    result = TASKS[task](**args)
    result["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
