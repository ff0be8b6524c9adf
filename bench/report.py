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


def part(r: dict[str, Any], name: str) -> dict[str, Any] | None:
    """One measurement of a plant, or None when it did not run or failed."""
    found = r.get(name)
    return None if not found or "error" in found else dict(found)


def _entry(r: dict[str, Any], name: str, key: str) -> dict[str, Any] | None:
    found = part(r, name)
    return None if found is None else found.get(key)


def load_ratio(ours: dict[str, Any] | None, raw: dict[str, Any] | None) -> float | None:
    """The embedded load's time over the raw baseline's: the median of the A/B pairs' ratios
    (each pair ran back to back, so a busy machine slows both), else the ratio of medians."""
    if ours is None or raw is None:
        return None
    if "ratio" in ours:
        return float(ours["ratio"]["median"])
    return float(ours["load"]["median"]) / float(raw["load"]["median"]) if raw["load"]["median"] else None


def targets(scales: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target as ``{target, value, met}``; traces compare p95s, loads medians."""
    if not scales:
        return []
    scale = target_scale(scales)
    r = scales[scale]
    checks: list[dict[str, Any]] = []

    def check(target: str, value: float | None, met: bool, unit: str = "x") -> None:
        shown = "not measured" if value is None else f"{value:.2f}{unit}"
        checks.append({"target": f"[{scale}] {target}", "value": shown, "met": value is not None and met})

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None or b == 0 else a / b

    for name in CLASSES:
        for direction in DIRECTIONS:
            key = f"{name}/{direction}"
            x = ratio(_p95(_entry(r, "trace_sqlite", key)), _p95(_entry(r, "igraph", key)))
            limit = 3.0 if name == "supplier" else 2.0
            check(f"embedded {CLASS_NAMES[name]} {direction} p95 <= {limit:g}x igraph", x, x is not None and x <= limit)
    for name in ("raw_material", "supplier"):
        for direction in DIRECTIONS:
            key = f"{name}/{direction}"
            x = ratio(_p95(_entry(r, "cte", key)), _p95(_entry(r, "trace_sqlite", key)))
            check(
                f"embedded {CLASS_NAMES[name]} {direction} >= 5x faster than recursive CTE", x, x is not None and x >= 5
            )
    for name in CLASSES:
        for direction in DIRECTIONS:
            key = f"{name}/{direction}"
            x = ratio(_p95(_entry(r, "networkx", key)), _p95(_entry(r, "trace_sqlite", key)))
            check(f"embedded {CLASS_NAMES[name]} {direction} faster than networkx", x, x is not None and x > 1)
    for name in CLASSES:
        for direction in DIRECTIONS:
            pair = _entry(r, "trace_neo4j", f"{name}/{direction}")
            x = None if pair is None else ratio(_p95(pair["adapter"]), _p95(pair["cypher"]))
            target = f"Neo4j adapter {CLASS_NAMES[name]} {direction} p95 <= 1.5x variable-length Cypher"
            check(target, x, x is not None and x <= 1.5)
    ours, raw = part(r, "load_sqlite"), part(r, "load_raw")
    x = load_ratio(ours, raw)
    check("embedded bulk load <= 1.5x raw executemany (median of A/B pairs)", x, x is not None and x <= 1.5)
    rate = None if ours is None else ours["edges"] / ours["load"]["median"] / 1000
    check("embedded bulk load >= 100k edges/s", rate, rate is not None and rate >= 100, unit="k edges/s")
    neo = part(r, "load_neo4j")
    rate = None if neo is None else neo["edges"] / neo["load"]["median"] / 1000
    check("Neo4j ingest >= 20k edges/s", rate, rate is not None and rate >= 20, unit="k edges/s")
    traces = part(r, "trace_sqlite")
    per_edge = None if traces is None else traces["index"]["bytes_per_edge"]
    check("in-memory traversal structures <= 64 bytes per edge", per_edge, (per_edge or 99) <= 64, unit=" B/edge")
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
        "each engine in its own process. Ratios compare p95s for traces and medians for loads.",
        "",
        "## Machine",
        "",
        f"- {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory; Python {m['python']}, SQLite {m['sqlite']}, "
        f"Neo4j {report['neo4j'].get('version', '–')} (local, `graph/neo4j/server.py`: {_jvm()})",
        f"- {m['date']}, commit {m['commit']}{' + uncommitted changes' if m['dirty'] else ''}; "
        f"`{m['command']}` took {m['duration_s'] / 60:.1f} min" + _sections(report["scales"]),
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
            lines += [f"### {name}", "", *_other(value), ""]
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
        "hop distance and an explaining path, plus every traversed edge, as pydantic objects "
        "(`TraceResult`). It does strictly more work, and its reached sets are smaller where time rules a path out.",
        "- **Embedded trace** is `SQLiteStore.trace` over the in-memory traversal index (`graph/sqlite/index.py`, "
        "built on the first trace: see *index build*). *SQL per hop* is one run of the same trace with the index "
        "off (`traversal_index=False`), the path every trace took before; both give byte-identical answers "
        "(checked here on every query, and by the conformance suite).",
        "- **Raw executemany** writes the same rows into the same tables (same indexes, created first, and the "
        "same PRAGMAs and single transaction: same durability) with no idempotence checks (bench/raw_sqlite.py). "
        "Loads time `apply` of an already parsed batch; parsing is listed apart, and the parsed batch is moved "
        "out of the garbage collector's sight (`gc.freeze`) so that neither load pays for collecting it. The "
        "store's first load into an empty file writes its rows before building its secondary indexes "
        "(`graph/sqlite/store.py`); the baseline does not, as a plain program would not. The ratio is the median "
        "of the A/B pairs' ratios.",
        "- **Neo4j ingest** is `Neo4jStore.apply` of the same batch into an emptied database: batches above "
        "20,000 facts commit in chunks, all or nothing. Each plant's loads follow a warm-up load, the plant's "
        "first into the database, whose time is listed under the table: the server then grows its store files "
        "and compiles its plans for the batch sizes. The larger plants' loads are fewer runs (see `n` in "
        "speed.json), as are the embedded loads of the larger plants, which get no warm-up (each load writes a "
        "fresh file).",
        "- **Warm-up and runs.** Each trace measurement's first run (whose answer is checked and counted) is its "
        "warm-up; then `--rounds` timed runs, fewer once they took `--budget` seconds but never fewer than "
        "3 (2 on the ~100k plant, where one supplier-wide Neo4j run takes seconds), and more, up to 200, while "
        "they took less than 0.2 s: a sub-millisecond query's p95 is then a percentile of many runs rather than "
        "the slowest of seven. Every engine is timed by the same function. Generated plants are kept in "
        "`~/.cache/tracegraph/bench`, keyed by generator version, size and seed.",
        "- **Neo4j adapter** traces fetch what is reachable from the starts (ignoring time) with one Cypher query "
        "and walk it in Python as the embedded store walks its index; in brackets, that fetch alone, once.",
        "- **Several starts** (supplier-wide backward starts at every consignee): the CTE, the Cypher query and "
        "TraceGraph walk once from all starts; igraph and networkx have single-source calls, so they run one per "
        "start and take the union, which overstates their time on that row.",
        "- Peak memory is each process's VmHWM (interpreter, imports, the parsed plant for loads, the peer's "
        "graph for peers); the Neo4j server's is the JVM's.",
        "",
    ]
    return "\n".join(lines)


def _sections(scales: dict[str, Any]) -> str:
    """Where the run's time went, per plant (from each worker's wall time)."""
    parts = []
    for scale, r in scales.items():
        seconds = r.get("seconds") or {}
        if seconds:
            top = sorted(seconds.items(), key=lambda kv: -kv[1])[:3]
            shown = ", ".join(f"{name} {value:.0f} s" for name, value in top)
            parts.append(f"{scale} {sum(seconds.values()):.0f} s (most: {shown})")
    return f" ({'; '.join(parts)})" if parts else ""


def _jvm() -> str:
    """The local server's heap and collector, as graph/neo4j/server.py starts it."""
    from graph.neo4j.server import JVM_OPTIONS

    heap = next((o.removeprefix("-Xmx") for o in JVM_OPTIONS if o.startswith("-Xmx")), "default")
    collector = next((o.removeprefix("-XX:+Use") for o in JVM_OPTIONS if o.endswith("GC")), "default collector")
    return f"{heap} heap, {collector}"


def _load(values: list[float] | tuple[float, ...]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


def _scale_section(scale: str, r: dict[str, Any], neo4j: dict[str, Any]) -> list[str]:
    ls, raw, neo = part(r, "load_sqlite"), part(r, "load_raw"), part(r, "load_neo4j")
    lines = [f"## Plant `{scale}`: {r['devices']:,} devices, {r['manifest_edges']:,} edges", ""]
    failed = [f"`{name}` ({v['error']})" for name, v in r.items() if isinstance(v, dict) and "error" in v]
    if failed:
        lines += ["Failed measurements: " + "; ".join(failed) + ".", ""]
    if ls is not None:
        lines += [
            f"Parsing the CSV files: {ls['parse_s']:.1f} s ({ls['nodes']:,} node and {ls['edges']:,} edge facts).",
            "",
        ]
    lines += [
        "| load | seconds (median / p95) | edges/s (median) | vs raw executemany | peak RSS |",
        "|---|---|---|---|---|",
    ]
    raw_median = None if raw is None else raw["load"]["median"]
    for label, figures, extra in (
        ("embedded store (`SQLiteStore.apply`)", ls, ""),
        ("raw `executemany`, same rows and tables", raw, " (same process)" if ls and "ratio" in ls else ""),
        ("Neo4j (`Neo4jStore.apply`)", neo, f" (JVM {neo4j.get('peak_rss_mb') or 0:,.0f} MiB)"),
    ):
        if figures is None:
            continue
        median = figures["load"]["median"]
        vs = _ratio(median, raw_median)
        if figures is ls and "ratio" in ls:
            vs = f"{ls['ratio']['median']:.2f}× / {ls['ratio']['p95']:.2f}× (pairs, n={ls['ratio']['n']})"
        lines.append(
            f"| {label} | {_s(figures['load'])} | {figures['edges'] / median:,.0f} | {vs} | "
            f"{figures['peak_rss_mb']:,.0f} MiB{extra} |"
        )
    if ls is not None and "index" in ls:
        rows = ", ".join(f"{n:,} {t}" for t, n in ls["rows"].items())
        lines += [
            "",
            f"A/B: each embedded load ran back to back with a raw one (alternating which went first); "
            f"both wrote {rows} ({'the same row counts' if ls['same_rows_as_raw'] else '**different row counts**'}). "
            f"The traversal index built after each embedded load: {_s(ls['index'])} s (median / p95), "
            "paid by the first trace, not by the load.",
        ]
    first_neo = [] if neo is None else neo["load"].get("warmup", [])
    if first_neo:
        lines += [
            "",
            f"Neo4j's first load of this plant into the database (the warm-up, not in the table): "
            f"{first_neo[0]:.2f} s, {neo['edges'] / first_neo[0]:,.0f} edges/s.",
        ]
    ts, neo_t = part(r, "trace_sqlite"), part(r, "trace_neo4j") or {}
    if ts is None:
        return [*lines, ""]
    index = ts["index"]
    lines += [
        "",
        f"Traversal index: built in {index['build_s']:.2f} s; {index['edges']:,} traced edges, "
        f"{index['array_bytes'] / 2**20:,.1f} MiB of arrays = **{index['bytes_per_edge']:.1f} bytes per edge** "
        f"(node keys as Python strings another {index['key_bytes'] / 2**20:,.1f} MiB).",
        "",
        "Traces, milliseconds (median / p95). In brackets: the embedded trace's p95 divided by the peer's "
        "(above 1×: the peer is faster), and for Neo4j the adapter's p95 divided by the Cypher query's. "
        "*Embedded* is `SQLiteStore.trace(query)` as an in-process caller gets it: the walk, then the answer "
        "settled as arrays (totals, order of the nodes, the sorted edge list), with the `nodes` and `edges` "
        "objects (and the paths) built on first access. *Of which the walk*: the same BFS timed alone "
        "(`graph.trace.walk_compact`). *Reading every object*: the call, then every node and edge object read; "
        "*as JSON*: the call, then `orjson.dumps(result.to_json())` (the REST trace endpoint's body).",
        "",
        "| query | reached | embedded | of which the walk | reading every object | as JSON | SQL per hop (1 run) | "
        "igraph (C BFS) | networkx | recursive CTE | Neo4j adapter (one-query fetch, 1 run) | variable-length Cypher |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in CLASSES:
        for direction in DIRECTIONS:
            key = f"{name}/{direction}"
            ours = ts.get(key)
            if ours is None:
                continue
            starts = r["queries"][name][direction]
            more = f" +{len(starts) - 1}" if len(starts) > 1 else ""
            peers_reached = _entry(r, "igraph", key)
            cells = [
                f"{CLASS_NAMES[name]} {direction} (`{starts[0]}`{more})",
                f"{ours['reached']:,}" + (f" (peers {peers_reached['reached']:,})" if peers_reached else ""),
                _ms(ours),
                _ms(ours.get("walk")),
                _ms(ours.get("objects")),
                _ms(ours.get("json")),
                f"{ours['sql_path_s'] * 1000:,.0f}" + ("" if ours["same_as_sql_path"] else " **differs**"),
            ]
            for peer in ("igraph", "networkx", "cte"):
                p = _entry(r, peer, key)
                cells.append(f"{_ms(p)} ({_ratio(ours['p95'], _p95(p))})")
            pair = neo_t.get(key)
            if pair:
                fetch = pair["adapter"].get("fetch_s")
                cells.append(_ms(pair["adapter"]) + ("" if fetch is None else f" ({fetch * 1000:,.0f})"))
                cells.append(f"{_ms(pair['cypher'])} ({_ratio(_p95(pair['adapter']), _p95(pair['cypher']))})")
            else:
                cells += ["–", "–"]
            lines.append("| " + " | ".join(cells) + " |")
    rss = {"embedded trace": ts["peak_rss_mb"]}
    builds = []
    for label, name in (("igraph", "igraph"), ("networkx", "networkx"), ("recursive CTE", "cte")):
        found = part(r, name)
        if found is not None:
            rss[label] = found["peak_rss_mb"]
            if "build_s" in found:
                builds.append(f"{label} {found['build_s']:.2f} s")
    if neo_t:
        rss["Neo4j client"] = neo_t["peak_rss_mb"]
    lines += [
        "",
        "Peak RSS per process: "
        + ", ".join(f"{k} {v:,.0f} MiB" for k, v in rss.items())
        + (f"; graph build: {', '.join(builds)}." if builds else "."),
        "",
    ]
    return lines


def _other(value: Any) -> list[str]:
    """Another benchmark's figures, briefly: its scalar fields, its ``summary``, and its ``rows``
    as a table when they are few; the file itself has the rest."""
    if not isinstance(value, dict):
        return [f"    {str(value)[:500]}"]
    lines = [f"- {k}: {v}" for k, v in value.items() if isinstance(v, str | int | float | bool)]
    summary = value.get("summary")
    if isinstance(summary, dict):
        lines += ["", "```json", orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode(), "```"]
    rows = value.get("rows")
    if isinstance(rows, list) and rows and len(rows) <= 40 and all(isinstance(r, dict) for r in rows):
        columns = [k for k, v in rows[0].items() if isinstance(v, str | int | float | bool)]
        lines += ["", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    bulky = [k for k, v in value.items() if isinstance(v, list | dict) and k not in ("summary", "rows")]
    if bulky:
        lines += ["", f"(also in the file: {', '.join(bulky)})"]
    return lines
