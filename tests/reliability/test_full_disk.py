"""A full disk: a load, a backup and the audit trail on a 1 MB tmpfs.

Needs root (``mount -t tmpfs``); skipped, saying why, anywhere else. What must hold: a clear
domain error (exit code 4, never a traceback), the store exactly as before, its audit trail
intact, and no half-written backup under the name asked for.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.context import EXIT_STORE
from cli.main import app
from loaders.synthetic import generate_plant
from schema.errors import StoreError
from services.app import Services
from services.settings import Settings
from tests.conformance.plants import repack_plant
from tests.e2e.api_client import load

runner = CliRunner()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full-disk test mounts a 1 MB tmpfs, which needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plant whose store is larger than the small disk."""
    out = tmp_path_factory.mktemp("plant")
    generate_plant(out, scale="small", seed=5)
    return out


def _integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def test_a_load_that_does_not_fit_fails_clearly_and_changes_nothing(small_disk: Path, plant: Path) -> None:
    url = f"sqlite:///{small_disk / 'store.db'}"
    services = Services.build(Settings(store=url), migrate=True)
    try:
        load(services, repack_plant())
        before = services.stats()
        with pytest.raises(StoreError) as failed:
            services.load_paths([plant])
        assert "nothing of this batch was written" in str(failed.value)
        after = services.stats()
        assert (after.nodes, after.edges, after.batches) == (before.nodes, before.edges, before.batches)
        assert services.audit_trail().verify().ok
    finally:
        services.close()
    assert _integrity(small_disk / "store.db") == "ok"

    # The same through the CLI: one line, exit code 4, no traceback.
    result = runner.invoke(app, ["--store", url, "load", str(plant)])
    assert result.exit_code == EXIT_STORE, result.output
    assert "Traceback" not in result.output and "nothing of this batch was written" in result.stderr

    assert "full" in str(failed.value)


def test_a_backup_that_does_not_fit_leaves_no_partial_file(small_disk: Path, plant: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    services = Services.build(Settings(store=url), migrate=True)
    try:
        services.load_paths([plant])
    finally:
        services.close()
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "filler").write_bytes(b"\0" * (free - 256 * 1024))  # 256 KB left: less than the store
    result = runner.invoke(app, ["--store", url, "backup", "--to", str(small_disk / "backup.db")])
    assert result.exit_code == EXIT_STORE, result.output
    assert "disk is full" in result.stderr and "nothing was replaced" in result.stderr
    assert [p.name for p in small_disk.iterdir()] == ["filler"]


def test_an_audit_entry_that_does_not_fit_is_a_clear_error(small_disk: Path, plant: Path, tmp_path: Path) -> None:
    audit = small_disk / "audit.db"
    services = Services.build(Settings(store=f"sqlite:///{tmp_path / 'store.db'}", audit=str(audit)), migrate=True)
    try:
        load(services, repack_plant())  # the first entry creates the file
        free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
        (small_disk / "filler").write_bytes(b"\0" * free)
        with pytest.raises(StoreError, match=r"audit trail .* full"):
            services.load_paths([plant])
    finally:
        services.close()
    assert _integrity(audit) == "ok"
