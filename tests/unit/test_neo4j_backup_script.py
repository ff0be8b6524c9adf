"""``scripts/neo4j-backup.sh`` with stand-ins for ``neo4j-admin`` and ``neo4j``: it stops the
server, dumps, starts it again (even when the dump fails), copies the audit trail and access file
online, and leaves an owner-only directory with checksums. (A real Neo4j install is not needed for
the script's own logic; the dump format is neo4j-admin's.)"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from schema.audit import AuditAction
from services.audit import AuditTrail
from services.audit_store import AuditLog

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "neo4j-backup.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

FAKE_ADMIN = """#!/bin/sh
echo "admin $*" >> "$LOG"
[ -n "$FAIL" ] && exit 1
for a in "$@"; do case "$a" in --to-path=*) dir="${a#--to-path=}";; esac; done
echo "dump of $3" > "$dir/$3.dump"
"""
FAKE_NEO4J = """#!/bin/sh
echo "neo4j $*" >> "$LOG"
"""


def _fake_neo4j(tmp_path: Path) -> Path:
    home = tmp_path / "neo4j-home"
    (home / "bin").mkdir(parents=True, exist_ok=True)
    for name, body in (("neo4j-admin", FAKE_ADMIN), ("neo4j", FAKE_NEO4J)):
        path = home / "bin" / name
        path.write_text(body)
        path.chmod(0o755)
    return home


def _run(tmp_path: Path, *args: str, fail: bool = False) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "NEO4J_HOME": str(_fake_neo4j(tmp_path)),
        "LOG": str(tmp_path / "calls.log"),
        **({"FAIL": "1"} if fail else {}),
    }
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60)


def test_dump_with_audit_trail_and_checksums(tmp_path: Path) -> None:
    audit = tmp_path / "vol" / "tracegraph-audit.db"
    trail = AuditTrail(AuditLog(audit))
    trail.record(AuditAction.LOAD, actor="t", subject="batch:1")
    trail.close()
    target = tmp_path / "backups" / "monday"
    done = _run(tmp_path, "--to", str(target), "--audit", str(audit))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in target.iterdir()) == ["SHA256SUMS", "neo4j.dump", "tracegraph-audit.db"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in target.iterdir())
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    copied = AuditTrail(AuditLog(target / "tracegraph-audit.db"))
    assert copied.verify().ok and copied.verify().entries == 1
    copied.close()
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls == ["neo4j stop", f"admin database dump neo4j --to-path={target}", "neo4j start"]


def test_the_server_is_started_again_when_the_dump_fails(tmp_path: Path) -> None:
    done = _run(tmp_path, "--to", str(tmp_path / "b"), fail=True)
    assert done.returncode != 0
    assert (tmp_path / "calls.log").read_text().splitlines()[-1] == "neo4j start"


def test_refuses_a_non_empty_target_and_bad_names(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert "not empty" in _run(tmp_path, "--to", str(tmp_path / "full")).stderr
    assert "not a database name" in _run(tmp_path, "--to", str(tmp_path / "n"), "--database", "a;rm").stderr
