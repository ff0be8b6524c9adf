"""Measured speed at scale: TraceGraph against peer engines on the same plants and queries.

    python -m bench.run            # make bench: plants of ~10k and ~100k devices
    python -m bench.run --full     # make bench-full: and ~1M devices

For each plant: load it (embedded store and a raw ``executemany`` of the same rows as A/B
pairs in one process; Neo4j),
then trace three query classes forward and backward on the embedded store and on Neo4j, and
the same starts with networkx, igraph (C), a SQLite recursive CTE and a variable-length
Cypher query. Each figure is a median and p95 over repeated runs after a warm-up, each
measurement in its own process (bench/workers.py) so its peak memory is its own. Writes
bench/RESULTS.md and bench/results/speed.json; the last line printed is ``targets met: X/Y``.
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.plants import cached_queries, default_cache, plant
from bench.report import render, targets

ROOT = Path(__file__).resolve().parent
SCALES = ("bench", "medium")
FULL_SCALES = (*SCALES, "large")
#: Per plant: A/B pairs per embedded load measurement (the store's load, then the raw
#: baseline's, or the other way round), the least of them when a pair is slow, and warm-up
#: pairs (a load writes a fresh file each time: a warm-up only warms the interpreter, and the
#: larger plants' loads take long enough for that not to show).
LOAD_RUNS = {"small": (3, 3, 1), "bench": (5, 3, 1), "medium": (3, 3, 0), "large": (1, 1, 0)}
#: Per plant: timed Neo4j loads, after a warm-up load (each empties the database first; the
#: warm-up, the plant's first load into the database, is reported apart). Few: a load of the
#: ~100k plant takes tens of seconds; the traces that follow reuse the database the last left.
NEO4J_LOADS = {"small": 1, "bench": 1, "medium": 2, "large": 1}
#: Per plant: the least timed runs of a trace measurement once its budget is spent.
TRACE_MIN_RUNS = {"small": 3, "bench": 3, "medium": 2, "large": 2}


def worker(task: str, **args: Any) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its figures, or ``{"error": …}``
    (a failed measurement is reported, and the others still run)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.workers", task, orjson.dumps(args).decode()],
        capture_output=True,
        text=True,
        cwd=ROOT.parent,
        check=False,
    )
    if done.returncode != 0:
        print(f"bench worker {task} failed:\n{done.stderr[-4000:]}", file=sys.stderr, flush=True)
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    result: dict[str, Any] = orjson.loads(done.stdout.strip().splitlines()[-1])
    return result


def machine() -> dict[str, Any]:
    def first(path: str, prefix: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "unknown"

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT.parent, check=False)
        return done.stdout.strip() if done.returncode == 0 else "unknown"

    return {
        "nproc": os.cpu_count(),
        "memory": first("/proc/meminfo", "MemTotal"),
        "cpu": first("/proc/cpuinfo", "model name"),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "loadavg_start": os.getloadavg(),
    }


def api_overhead(devices: int, rounds: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.api_overhead", "--devices", str(devices), "--rounds", str(rounds)],
        capture_output=True,
        text=True,
        cwd=ROOT.parent,
        check=False,
    )
    return done.stdout.strip().splitlines() if done.returncode == 0 else [f"failed: {done.stderr[-500:]}"]


def other_results(results_dir: Path, own: Path) -> dict[str, Any]:
    """Figures other benchmarks left in bench/results/ (e.g. recall accuracy)."""
    found: dict[str, Any] = {}
    for path in sorted(results_dir.glob("*.json")):
        if path.resolve() == own.resolve():
            continue
        try:  # json, not orjson: other writers may leave NaN, which only json accepts
            found[path.name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            found[path.name] = f"unreadable: {exc}"
    return found


def run_scale(scale: str, cache: Path, work: Path, neo4j_url: str | None, rounds: int, budget: float) -> dict[str, Any]:
    """Every measurement of one plant. The plant's CSV files come from ``cache`` (generated
    there once); databases go to ``work``. Each worker's wall time is kept in ``seconds``."""
    began = time.monotonic()
    plant_dir, manifest = plant(cache, scale)
    db = work / f"{scale}.db"
    load_rounds, load_min, load_warmup = LOAD_RUNS.get(scale, (2, 2, 0))
    load_budget = budget * 4
    out: dict[str, Any] = {"devices": manifest.devices, "manifest_edges": sum(manifest.edges_by_type.values())}
    seconds: dict[str, float] = {"plant": time.monotonic() - began}
    out["seconds"] = seconds

    def timed(name: str, task: str, **args: Any) -> dict[str, Any]:
        started = time.monotonic()
        figures = out[name] = worker(task, **args)
        seconds[name] = time.monotonic() - started
        print(f"[{scale}] {name}: {seconds[name]:.1f} s", flush=True)
        return figures

    print(f"[{scale}] {manifest.devices} devices: loading the embedded store", flush=True)
    common = {
        "plant_dir": str(plant_dir),
        "rounds": load_rounds,
        "budget": load_budget,
        "min_runs": load_min,
        "warmup": load_warmup,
    }
    # One process, A/B: the embedded load and its raw baseline alternate on one parse.
    loads = timed("load_sqlite", "load-embedded", db=str(db), raw_db=str(work / f"{scale}-raw.db"), **common)
    if "error" in loads:
        return out  # nothing to trace
    shared = {"edges": loads["edges"], "peak_rss_mb": loads["peak_rss_mb"]}
    out["load_raw"] = {**shared, "load": loads.pop("raw")}
    loads["load"] = loads.pop("sqlite")
    out["queries"] = queries = cached_queries(plant_dir, db, manifest)
    min_runs = TRACE_MIN_RUNS.get(scale, 2)
    trace_args = {"db": str(db), "queries": queries, "rounds": rounds, "budget": budget}
    print(f"[{scale}] tracing: embedded, igraph, networkx, recursive CTE", flush=True)
    timed("trace_sqlite", "trace-sqlite", min_runs=min_runs, **trace_args)
    timed("igraph", "peers-igraph", **trace_args)
    timed("networkx", "peers-networkx", **trace_args)
    timed("cte", "peers-cte", **trace_args)
    if neo4j_url is not None:
        print(f"[{scale}] Neo4j: ingest and traces", flush=True)
        neo_rounds = NEO4J_LOADS.get(scale, 1)
        loaded = timed(
            "load_neo4j",
            "load-neo4j",
            plant_dir=str(plant_dir),
            url=neo4j_url,
            rounds=neo_rounds,
            budget=load_budget,
            min_runs=neo_rounds,
            warmup=1,
        )
        if "error" not in loaded:
            timed(
                "trace_neo4j",
                "trace-neo4j",
                url=neo4j_url,
                queries=queries,
                rounds=rounds,
                budget=budget,
                min_runs=min_runs,
            )
    for path in work.glob(f"{scale}*.db*"):
        path.unlink()  # the next plant needs the room more than this one its files
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="add the ~1M-device plant (long)")
    parser.add_argument("--scales", help="comma-separated plant sizes (bench, medium, large; small for a smoke run)")
    parser.add_argument("--rounds", type=int, default=7, help="timed runs per trace measurement (after a warm-up)")
    parser.add_argument("--budget", type=float, default=3.0, help="seconds per measurement before runs stop")
    parser.add_argument("--no-neo4j", action="store_true", help="skip Neo4j (no Java here)")
    parser.add_argument("--no-api", action="store_true", help="skip the HTTP overhead figure")
    parser.add_argument(
        "--cache", type=Path, default=default_cache(), help="where generated plants are kept between runs"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "speed.json")
    parser.add_argument("--render-only", action="store_true", help="rewrite --out from the figures in --json")
    args = parser.parse_args()
    if args.render_only:
        report = orjson.loads(args.json.read_bytes())
        report["targets"] = checks = targets(report["scales"])
        args.out.write_text(render(report, other_results(args.json.parent, args.json)))
        print(f"targets met: {sum(1 for c in checks if c['met'])}/{len(checks)}")
        return

    scales = args.scales.split(",") if args.scales else list(FULL_SCALES if args.full else SCALES)
    args.cache.mkdir(parents=True, exist_ok=True)
    info = machine()
    started = time.monotonic()
    results: dict[str, Any] = {}
    server_info: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="tracegraph-bench-"))
    run_dir = work / "neo4j"
    server = None
    if not args.no_neo4j:
        from graph.neo4j.server import start, stop

        print("starting a local Neo4j", flush=True)
        server = start(run_dir, owner_pid=os.getpid())
    try:
        for scale in scales:
            url = server.store_url if server is not None else None
            results[scale] = run_scale(scale, args.cache, work, url, args.rounds, args.budget)
        if server is not None:
            server_info["peak_rss_mb"] = _peak_rss_of(server.pid)
            server_info["version"] = _neo4j_version()
    finally:
        if server is not None:
            stop(run_dir)
        shutil.rmtree(work, ignore_errors=True)
    api_started = time.monotonic()
    api = [] if args.no_api else api_overhead(10_000, 5)
    info["api_overhead_s"] = time.monotonic() - api_started
    info["loadavg_end"] = os.getloadavg()
    info["duration_s"] = time.monotonic() - started
    info["command"] = " ".join(["python -m bench.run", *sys.argv[1:]])
    others = other_results(args.json.parent, args.json)
    checks = targets(results)
    report = {"machine": info, "neo4j": server_info, "scales": results, "api_overhead": api, "targets": checks}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    args.out.write_text(render(report, others))
    met = sum(1 for c in checks if c["met"])
    for c in checks:
        print(f"{'met    ' if c['met'] else 'NOT met'}  {c['target']}: {c['value']}")
    print(f"results: {args.out}")
    print(f"targets met: {met}/{len(checks)}")


def _peak_rss_of(pid: int) -> float | None:
    """A process's peak resident memory (VmHWM), in MiB, while it still runs."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _neo4j_version() -> str:
    from graph.neo4j import server

    return server._version()


if __name__ == "__main__":
    main()
