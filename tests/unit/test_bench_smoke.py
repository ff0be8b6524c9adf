"""The benchmark suite runs end to end on the small plant (no times asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from bench.plants import generator_version

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_runs_on_the_small_plant(tmp_path: Path) -> None:
    out, figures = tmp_path / "RESULTS.md", tmp_path / "results" / "speed.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--scales=small",
            "--no-neo4j",
            "--no-api",
            "--rounds=3",
            "--budget=1",
            f"--cache={tmp_path / 'cache'}",
            f"--out={out}",
            f"--json={figures}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.fullmatch(r"targets met: \d+/\d+", done.stdout.strip().splitlines()[-1])
    assert "## Targets" in out.read_text()
    small = orjson.loads(figures.read_bytes())["scales"]["small"]
    assert {"plant", "load_sqlite", "trace_sqlite", "igraph"} <= set(small["seconds"])
    # The embedded load and its raw baseline ran as A/B pairs on the same rows.
    loads, raw = small["load_sqlite"], small["load_raw"]
    assert loads["same_rows_as_raw"] and loads["rows"]["edges"] == loads["edges"] == raw["edges"]
    assert loads["ratio"]["n"] == loads["load"]["n"] == raw["load"]["n"] >= 3
    # The plant stays in the cache for the next run, keyed by generator version, with its queries.
    (kept,) = (tmp_path / "cache").glob(f"plant-small-0-{generator_version('small')}")
    assert (kept / "manifest.json").exists()
    assert kept.with_name(kept.name + ".queries.json").exists()
    traces = small["trace_sqlite"]
    checked = [v for k, v in traces.items() if "/" in k]
    assert len(checked) == 6
    # The in-memory index answered every query exactly as the per-hop SQL path did.
    assert all(v["same_as_sql_path"] for v in checked)


def test_cached_plants_are_keyed_by_size_and_generator() -> None:
    versions = {scale: generator_version(scale) for scale in ("small", "bench", "medium")}
    assert len(set(versions.values())) == 3
    assert generator_version("bench") == versions["bench"]  # stable from run to run
