"""The embedded trace against an earlier revision of ``graph/trace.py``, alternately in one process.

    python -m bench.trace_ab DB QUERIES [--against HEAD] [--rounds 5]

``DB`` is an embedded store holding a plant, ``QUERIES`` a ``*.queries.json`` file of the
benchmark cache (``bench/plants.py``). For every query the two revisions run in turn, round
after round, so other work on the machine slows both alike; the answers must be equal.
Printed per query, as median / p95 milliseconds and the ratio of the p95s (current / earlier):
the call (``trace``), the call then every node and edge object read (``objects``), the call
then ``to_json`` (``json``), and the walk alone (``walk``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.workers import summary
from graph import trace as current
from graph.sqlite.store import SQLiteStore
from schema.model import TraceDirection, TraceQuery, TraceResult

ROOT = Path(__file__).resolve().parent.parent


def earlier_module(revision: str) -> ModuleType:
    """``graph/trace.py`` as it was at ``revision``, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{revision}:graph/trace.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "trace_earlier.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("trace_earlier", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import graph/trace.py of {revision}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _read(result: TraceResult) -> int:
    return len(result.nodes) + len(result.edges)


def _runs(
    store: SQLiteStore, query: TraceQuery, graph: Any, positions: list[int], kinds: list[Any]
) -> dict[str, Callable[[ModuleType], object]]:
    def trace(m: ModuleType) -> object:
        return m.run_trace(store, query)

    def objects(m: ModuleType) -> object:
        return _read(m.run_trace(store, query))

    def as_json(m: ModuleType) -> object:
        return m.run_trace(store, query).to_json()

    def walk(m: ModuleType) -> object:
        return m.walk_compact(graph, positions, kinds, None, query)

    return {"trace": trace, "objects": objects, "json": as_json, "walk": walk}


def compare(db: Path, queries: dict[str, dict[str, list[str]]], earlier: ModuleType, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with closing(SQLiteStore(db)) as store:
        store.traversal_index()
        for name, by_direction in queries.items():
            for direction, starts in by_direction.items():
                query = TraceQuery(starts=tuple(starts), direction=TraceDirection(direction))
                found = store.compact_traversal(query.starts, query.direction)
                if found is None:
                    raise SystemExit("the store has no traversal index")
                graph, positions = found
                kinds = [store.kinds(query.starts)[k] for k in query.starts]
                a, b = earlier.run_trace(store, query), current.run_trace(store, query)
                if a != b or a.to_json() != b.to_json():
                    raise SystemExit(f"{name}/{direction}: the answers differ")
                runs = _runs(store, query, graph, positions, kinds)
                samples: dict[tuple[str, str], list[float]] = {}
                for _ in range(rounds):
                    for what, run in runs.items():
                        for label, module in (("earlier", earlier), ("current", current)):
                            started = time.perf_counter()
                            run(module)
                            samples.setdefault((what, label), []).append(time.perf_counter() - started)
                row: dict[str, Any] = {"reached": b.total}
                for what in runs:
                    old, new = summary(samples[(what, "earlier")]), summary(samples[(what, "current")])
                    row[what] = {
                        "earlier_ms": [round(old["median"] * 1000, 2), round(old["p95"] * 1000, 2)],
                        "current_ms": [round(new["median"] * 1000, 2), round(new["p95"] * 1000, 2)],
                        "p95_ratio": round(new["p95"] / old["p95"], 3),
                    }
                out[f"{name}/{direction}"] = row
                print(json.dumps({f"{name}/{direction}": row}), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("queries", type=Path)
    parser.add_argument("--against", default="HEAD", help="git revision of the earlier graph/trace.py")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    compare(args.db, json.loads(args.queries.read_text()), earlier_module(args.against), args.rounds)


if __name__ == "__main__":
    main()
