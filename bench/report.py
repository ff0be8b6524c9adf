"""The targets of the issue "Measured speed at scale", checked on one run, and RESULTS.md."""

from __future__ import annotations

from typing import Any

import orjson

CLASSES = ("finished_lot", "raw_material", "supplier")
DIRECTIONS = ("forward", "backward")
CLASS_NAMES = {
    "finished_lot": "finished-lot recall",
    "raw_material": "raw-material lot",
    "supplier": "supplier-wide",
}
#: The plant the targets are checked on: the ~100k-device one, else the largest that ran.
TARGET_SCALE = "medium"
SCALE_ORDER = ("small", "bench", "medium", "large")


def target_scale(scales: dict[str, Any]) -> str:
    if TARGET_SCALE in scales:
        return TARGET_SCALE
    return max(scales, key=lambda s: SCALE_ORDER.index(s) if s in SCALE_ORDER else -1)


def _p95(figures: dict[str, Any] | None) -> float | None:
    return None if figures is None else float(figures["p95"])


def targets(scales: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target as ``{target, value, met}``; traces compare p95s, loads medians."""
    if not scales:
        return []
    scale = target_scale(scales)
    r = scales[scale]
    checks: list[dict[str, Any]] = []

    def check(target: str, ratio: float | None, met: bool, unit: str = "x") -> None:
        value = "not measured" if ratio is None else f"{ratio:.2f}{unit}"
        checks.append({"target": f"[{scale}] {target}", "value": value, "met": ratio is not None and met})

    for name in CLASSES:
        for direction in DIRECTIONS:
            key = f"{name}/{direction}"
            ours = _p95(r["trace_sqlite"].get(key))
            igraph = _p95(r["igraph"].get(key))
            limit = 3.0 if name == "supplier" else 2.0
            ratio = None if ours is None or igraph is None else ours / igraph
            check(f"embedded {CLASS_NAMES[name]} {direction} p95 <= {limit:g}x igraph", ratio, (ratio or 0) <= limit)
    for name in ("raw_material", "supplier"):
        for direction in DIRECTIONS:
            key = f"{name}/{direction}"
            ours, cte = _p95(r["trace_sqlite"].get(key)), _p95(r["cte"].get(key))
            ratio = None if ours is None or cte is None else cte / ours
            check(f"embedded {CLASS_NAMES[name]} {direction} >= 5x faster than recursive CTE", ratio, (ratio or 0) >= 5)
    for name in CLASSES:
        for direction in DIRECTIONS:
            key = f"{name}/{direction}"
            ours, nx = _p95(r["trace_sqlite"].get(key)), _p95(r["networkx"].get(key))
            ratio = None if ours is None or nx is None else nx / ours
            check(f"embedded {CLASS_NAMES[name]} {direction} faster than networkx", ratio, (ratio or 0) > 1)
    neo = r.get("trace_neo4j")
    for name in CLASSES:
        for direction in DIRECTIONS:
            key = f"{name}/{direction}"
            pair = neo.get(key) if neo else None
            ratio = None if pair is None else _p95(pair["adapter"]) / _p95(pair["cypher"])  # type: ignore[operator]
            check(
                f"Neo4j adapter {CLASS_NAMES[name]} {direction} p95 <= 1.5x variable-length Cypher",
                ratio,
                (ratio or 9) <= 1.5,
            )
    ours_load = r["load_sqlite"]["load"]["median"]
    raw_load = r["load_raw"]["load"]["median"]
    check("embedded bulk load <= 1.5x raw executemany (medians)", ours_load / raw_load, ours_load / raw_load <= 1.5)
    rate = r["load_sqlite"]["edges"] / ours_load
    check("embedded bulk load >= 100k edges/s", rate / 1000, rate >= 100_000, unit="k edges/s")
    neo_load = r.get("load_neo4j")
    neo_rate = None if neo_load is None else neo_load["edges"] / neo_load["load"]["median"]
    check(
        "Neo4j ingest >= 20k edges/s",
        None if neo_rate is None else neo_rate / 1000,
        (neo_rate or 0) >= 20_000,
        unit="k edges/s",
    )
    per_edge = r["trace_sqlite"]["index"]["bytes_per_edge"]
    check("in-memory traversal structures <= 64 bytes per edge", per_edge, per_edge <= 64, unit=" B/edge")
    return checks


# -- RESULTS.md ----------------------------------------------------------------------------


def _ms(figures: dict[str, Any] | None) -> str:
    if figures is None:
        return "–"
    return f"{figures['median'] * 1000:,.1f} / {figures['p95'] * 1000:,.1f}"


def _s(figures: dict[str, Any]) -> str:
    return f"{figures['median']:,.2f} / {figures['p95']:,.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "–"
    x = a / b
    return f"{x:,.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 1 else f"{x:.2g}×"


def render(report: dict[str, Any], others: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Measured speed at scale",
        "",
        "Written by `make bench` (`python -m bench.run`; `make bench-full` adds the ~1M-device plant). "
        "Every figure is **median / p95** over repeated runs after a warm-up (n runs in `bench/results/speed.json`), "
        "each measurement in its own process. Ratios compare p95s for traces and medians for loads.",
        "",
        "## Machine",
        "",
        f"- {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory; Python {m['python']}, SQLite {m['sqlite']}, "
        f"Neo4j {report['neo4j'].get('version', '–')} (local, `graph/neo4j/server.py`, 1 GiB heap)",
        f"- {m['date']}, commit {m['commit']}{' + uncommitted changes' if m['dirty'] else ''}; "
        f"`{m['command']}` took {m['duration_s'] / 60:.1f} min",
        f"- load average at start {_load(m['loadavg_start'])}, at end {_load(m['loadavg_end'])}: other work on "
        "the machine during the run makes every figure slower and noisier (the ratios of one run less so)",
        "",
    ]
    for scale, r in report["scales"].items():
        lines += _scale_section(scale, r, report.get("neo4j", {}))
    lines += ["## API overhead (bench/api_overhead.py)", ""]
    lines += [f"    {line}" for line in report.get("api_overhead") or ["not run"]]
    lines += [""]
    if others:
        lines += ["## Other benchmarks (bench/results/)", ""]
        for name, value in others.items():
            lines += [f"### {name}", "", "```json", orjson.dumps(value, option=orjson.OPT_INDENT_2).decode(), "```", ""]
    checks = report["targets"]
    met = sum(1 for c in checks if c["met"])
    lines += ["## Targets", "", "| target | value | |", "|---|---|---|"]
    lines += [f"| {c['target']} | {c['value']} | {'met' if c['met'] else '**not met**'} |" for c in checks]
    lines += ["", f"**targets met: {met}/{len(checks)}**", ""]
    lines += [
        "## How to read this",
        "",
        "- **Peers do less.** networkx, igraph, the recursive CTE and the variable-length Cypher answer plain "
        "reachability: the set of keys. TraceGraph respects containment time (an item leaves a container only "
        "while it was inside), stops at parties and catalogue entries, and returns every reached node with its "
        "hop distance and an explaining path, plus every traversed edge, as validated pydantic objects "
        "(`TraceResult`). It does strictly more work, and its reached sets are smaller where time rules a path out.",
        "- **Embedded trace** is `SQLiteStore.trace` over the in-memory traversal index (`graph/sqlite/index.py`, "
        "built on the first trace: see *index build*). *SQL per hop* is one run of the same trace with the index "
        "off (`traversal_index=False`), the path every trace took before; both give byte-identical answers "
        "(checked here on every query, and by the conformance suite).",
        "- **Raw executemany** writes the same facts as rows into the same tables (same indexes and PRAGMAs) with "
        "no idempotence checks (bench/raw_sqlite.py). Loads time `apply` of an already parsed batch; parsing is "
        "listed apart.",
        "- **Neo4j ingest** is `Neo4jStore.apply` of the same batch into an emptied database: batches above "
        "20,000 facts commit in chunks, all or nothing.",
        "- Peak memory is each process's `ru_maxrss` (interpreter, imports, the parsed plant for loads, the "
        "peer's graph for peers); the Neo4j figure is the JVM's VmHWM.",
        "",
    ]
    return "\n".join(lines)


def _load(values: list[float] | tuple[float, ...]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


def _scale_section(scale: str, r: dict[str, Any], neo4j: dict[str, Any]) -> list[str]:
    ls, raw = r["load_sqlite"], r["load_raw"]
    edges = ls["edges"]
    lines = [
        f"## Plant `{scale}`: {r['devices']:,} devices, {ls['nodes']:,} nodes, {edges:,} edges",
        "",
        f"Parsing the CSV files: {ls['parse_s']:.1f} s.",
        "",
        "| load | seconds (median / p95) | edges/s (median) | vs raw executemany | peak RSS |",
        "|---|---|---|---|---|",
        f"| embedded store (`SQLiteStore.apply`) | {_s(ls['load'])} | {edges / ls['load']['median']:,.0f} | "
        f"{_ratio(ls['load']['median'], raw['load']['median'])} | {ls['peak_rss_mb']:,.0f} MiB |",
        f"| raw `executemany`, same rows and tables | {_s(raw['load'])} | "
        f"{edges / raw['load']['median']:,.0f} | 1.0× | {raw['peak_rss_mb']:,.0f} MiB |",
    ]
    neo = r.get("load_neo4j")
    if neo:
        lines.append(
            f"| Neo4j (`Neo4jStore.apply`) | {_s(neo['load'])} | {edges / neo['load']['median']:,.0f} | "
            f"{_ratio(neo['load']['median'], raw['load']['median'])} | {neo['peak_rss_mb']:,.0f} MiB "
            f"(JVM {neo4j.get('peak_rss_mb') or 0:,.0f} MiB) |"
        )
    index = r["trace_sqlite"]["index"]
    lines += [
        "",
        f"Traversal index: built in {index['build_s']:.2f} s; {index['edges']:,} traced edges, "
        f"{index['array_bytes'] / 2**20:,.1f} MiB of arrays = **{index['bytes_per_edge']:.1f} bytes per edge** "
        f"(node keys as Python strings another {index['key_bytes'] / 2**20:,.1f} MiB).",
        "",
        "Traces, milliseconds (median / p95), and each peer's p95 as a multiple of the embedded trace's p95 "
        "(below 1×: the peer is faster):",
        "",
        "| query | reached | embedded | SQL per hop (1 run) | igraph (C BFS) | networkx | recursive CTE | "
        "Neo4j adapter | variable-length Cypher |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ts, neo_t = r["trace_sqlite"], r.get("trace_neo4j") or {}
    for name in CLASSES:
        for direction in DIRECTIONS:
            key = f"{name}/{direction}"
            ours = ts.get(key)
            if ours is None:
                continue
            starts = r["queries"][name][direction]
            label = f"{CLASS_NAMES[name]} {direction} ({starts[0]}{f' +{len(starts) - 1}' if len(starts) > 1 else ''})"
            cells = [label, f"{ours['reached']:,} (peers {r['igraph'][key]['reached']:,})", _ms(ours)]
            same = "" if ours["same_as_sql_path"] else " **differs**"
            cells.append(f"{ours['sql_path_s'] * 1000:,.0f}{same}")
            for peer in ("igraph", "networkx", "cte"):
                p = r[peer].get(key)
                cells.append(f"{_ms(p)} ({_ratio(_p95(p), ours['p95'])})")
            pair = neo_t.get(key)
            if pair:
                cells.append(_ms(pair["adapter"]))
                cells.append(
                    f"{_ms(pair['cypher'])} ({_ratio(_p95(pair['adapter']), _p95(pair['cypher']))} adapter/Cypher)"
                )
            else:
                cells += ["–", "–"]
            lines.append("| " + " | ".join(cells) + " |")
    rss = {
        "embedded trace": ts["peak_rss_mb"],
        "igraph": r["igraph"]["peak_rss_mb"],
        "networkx": r["networkx"]["peak_rss_mb"],
        "recursive CTE": r["cte"]["peak_rss_mb"],
    }
    if neo_t:
        rss["Neo4j client"] = neo_t["peak_rss_mb"]
    builds = f"graph build: igraph {r['igraph']['build_s']:.2f} s, networkx {r['networkx']['build_s']:.2f} s"
    lines += [
        "",
        "Peak RSS per process: " + ", ".join(f"{k} {v:,.0f} MiB" for k, v in rss.items()) + f"; {builds}.",
        "",
    ]
    return lines
