"""kill -9 during a load of the embedded store: no partial batch, ever."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graph.sqlite.store import SQLiteStore
from loaders.synthetic import generate_plant

ROOT = Path(__file__).resolve().parents[2]


def counts(db: Path) -> tuple[int, int, int]:
    store = SQLiteStore(db)
    try:
        s = store.stats()
        return s.nodes, s.edges, s.batches
    finally:
        store.close()


@pytest.mark.slow
def test_killed_loads_leave_either_nothing_or_everything(tmp_path: Path) -> None:
    data = tmp_path / "plant"
    generate_plant(data, scale="small", seed=3)
    db = tmp_path / "store.db"
    store = SQLiteStore(db)
    store.migrate()
    store.close()
    command = [sys.executable, "-m", "cli.main", "--store", f"sqlite:///{db}", "load", str(data)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    # A complete load, for the expected counts; then start again from an empty store.
    full = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert full.returncode == 0, full.stderr
    expected = counts(db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    store = SQLiteStore(db)
    store.migrate()
    store.close()

    rng = random.Random(7)
    for _ in range(4):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = counts(db)
        assert state in {(0, 0, 0), expected}, f"partial batch after kill: {state}"
    # Whatever happened, loading again completes the store exactly once.
    again = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert counts(db) == expected
