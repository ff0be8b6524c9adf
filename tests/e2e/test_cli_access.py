"""``tracegraph keys``, ``backup``/``restore`` and ``serve --dev`` as an operator runs them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from cli.context import EXIT_STORE
from cli.main import app
from graph.sqlite.store import SQLiteStore
from services.audit import AuditTrail
from services.settings import Settings
from tests.conformance.plants import repack_plant

runner = CliRunner()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    path = tmp_path / "cli.db"
    store = SQLiteStore(path)
    store.migrate()
    store.apply(repack_plant())
    store.close()
    return f"sqlite:///{path}"


def run(store_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--store", store_url, "--actor", "ops:kim", *args])
    return result.exit_code, result.stdout, result.stderr


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- keys ------------------------------------------------------------------------------------


def test_keys_are_printed_once_stored_hashed_listed_and_revoked(store_url: str, tmp_path: Path) -> None:
    code, out, err = run(store_url, "keys", "create", "--role", "integration", "--name", "ERP connector")
    assert code == 0, err
    key = out.strip()
    assert key.startswith("tgk_") and "shown only this once" in err
    key_id = key.split("_")[1]

    access_file = tmp_path / "cli.db.access.db"
    assert _mode(access_file) == 0o600
    assert key.split("_", 2)[2].encode() not in access_file.read_bytes()  # only a salted digest is kept

    code, out, _ = run(store_url, "keys", "list", "--json")
    (listed,) = json.loads(out)
    assert listed["id"] == key_id and listed["role"] == "integration" and listed["state"] == "active"
    assert listed["created_by"] == "ops:kim" and "key" not in listed

    code, out, _ = run(store_url, "keys", "revoke", key_id, "--reason", "connector retired")
    assert code == 0 and "revoked" in out
    assert json.loads(run(store_url, "keys", "list", "--json")[1])[0]["state"] == "revoked"
    assert run(store_url, "keys", "list", "--active", "--json")[1].strip() == "[]"
    code, _, err = run(store_url, "keys", "revoke", key_id)
    assert code != 0 and "already revoked" in err

    trail = AuditTrail.for_settings(Settings(store=store_url))
    entries = [trail.entry(r.seq) for r in trail.rows()]
    trail.close()
    assert [(e.action, e.actor, e.subject) for e in entries] == [
        ("key.changed", "ops:kim", f"key:{key_id}"),
        ("key.changed", "ops:kim", f"key:{key_id}"),
    ]
    assert entries[1].reason == "connector retired" and entries[1].new == {"state": "revoked"}


def test_keys_with_expiry_roles_and_shares(store_url: str) -> None:
    code, _, err = run(store_url, "keys", "create", "--role", "wizard", "--name", "x")
    assert code != 0 and "quality_engineer" in err
    code, out, _ = run(
        store_url, "keys", "create", "--role", "auditor", "--name", "notified body", "--expires", "30d", "--json"
    )
    created = json.loads(out)
    assert created["expires_at"] and created["key"].startswith("tgk_")
    code, _, err = run(store_url, "keys", "create", "--role", "auditor", "--name", "x", "--expires", "2001-01-01")
    assert code != 0 and "past" in err
    code, out, _ = run(store_url, "keys", "share", created["id"], "report:*", "package:p1.zip")
    assert code == 0
    (listed,) = json.loads(run(store_url, "keys", "list", "--json")[1])
    assert listed["shares"] == ["package:p1.zip", "report:*"]
    run(store_url, "keys", "unshare", created["id"], "report:*")
    assert json.loads(run(store_url, "keys", "list", "--json")[1])[0]["shares"] == ["package:p1.zip"]


# -- backup and restore --------------------------------------------------------------------


def _counts(url: str) -> tuple[int, int]:
    store = SQLiteStore(url.removeprefix("sqlite:///"))
    try:
        stats = store.stats()
        return stats.nodes, stats.edges
    finally:
        store.close()


def test_backup_and_restore_round_trip(store_url: str, tmp_path: Path) -> None:
    run(store_url, "keys", "create", "--role", "admin", "--name", "ops")  # an audit trail and an access file
    target = tmp_path / "backups" / "monday.db"
    code, out, err = run(store_url, "backup", "--to", str(target), "--json")
    assert code == 0, err
    written = json.loads(out)
    assert set(written["files"]) == {"store", "audit", "access"}
    for path in written["files"].values():
        assert _mode(Path(path)) == 0o600
        assert not Path(path + "-wal").exists()  # one self-contained file each
    assert written["audit_entries"] == 1
    before = _counts(store_url)
    assert (written["nodes"], written["edges"]) == before

    code, _, err = run(store_url, "backup", "--to", str(target))
    assert code != 0 and "--force" in err

    # The store changes after the backup; the restore brings back the backup's state.
    extra = tmp_path / "suppliers.csv"
    extra.write_text("supplier,name,country,status\nsupplier:NEW-1,New Polymers,DE,approved\n")
    assert run(store_url, "load", str(extra))[0] == 0
    assert _counts(store_url) != before
    code, out, err = run(store_url, "restore", "--from", str(target))
    assert code == 0, err
    assert _counts(store_url) == before
    previous = tmp_path / "cli.db.before-restore.db"
    assert _mode(previous) == 0o600 and _counts(f"sqlite:///{previous}") != before
    assert "left as they are" in err


def test_restore_refuses_a_store_in_use_and_a_bad_backup(store_url: str, tmp_path: Path) -> None:
    target = tmp_path / "b.db"
    assert run(store_url, "backup", "--to", str(target))[0] == 0
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    code, _, err = run(store_url, "restore", "--from", str(junk))
    assert code == EXIT_STORE and "not a TraceGraph backup" in err

    path = store_url.removeprefix("sqlite:///")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from graph.sqlite.store import SQLiteStore\n"
            f"s = SQLiteStore({path!r}); s.stats(); print('open', flush=True); time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        before = _counts(store_url)
        code, _, err = run(store_url, "restore", "--from", str(target))
        assert code == EXIT_STORE and "another process has the store" in err
        assert _counts(store_url) == before
    finally:
        holder.kill()
        holder.wait()


def test_backup_of_a_neo4j_store_points_to_its_tools() -> None:
    code, _, err = run("neo4j://neo4j:pw@127.0.0.1:1", "backup", "--to", "x.db")
    assert code != 0 and "neo4j-backup.sh" in err


# -- serve ------------------------------------------------------------------------------------


def _serve(
    monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None
) -> tuple[Any, dict[str, Any]]:
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda asgi, **options: served.update(options, app=asgi))
    result = runner.invoke(app, list(args), env=env)
    return result, served


def test_serve_dev_is_loud_and_local_only(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result, served = _serve(monkeypatch, "--store", store_url, "serve", "--dev")
    assert result.exit_code == 0, result.output
    assert "DEVELOPMENT MODE" in result.stderr and served["host"] == "127.0.0.1"
    result, served = _serve(monkeypatch, "--store", store_url, "serve", "--dev", "--host", "0.0.0.0")
    assert result.exit_code != 0 and "this machine only" in result.stderr and not served
    result, served = _serve(
        monkeypatch, "--store", store_url, "serve", "--host", "0.0.0.0", env={"TRACEGRAPH_ENVIRONMENT": "development"}
    )
    assert result.exit_code != 0 and not served


def test_serve_refuses_default_secrets_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "neo4j://neo4j:change-this-password@neo4j:7687"
    result, served = _serve(monkeypatch, "--store", url, "serve", "--host", "0.0.0.0")
    assert result.exit_code != 0 and not served
    assert "refusing to start in production" in result.stderr and "change-this-password" not in result.stderr


@pytest.mark.anyio
async def test_serve_in_production_needs_a_key(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key = run(store_url, "keys", "create", "--role", "quality_engineer", "--name", "dash")[1].strip()
    result, served = _serve(monkeypatch, "--store", store_url, "serve")
    assert result.exit_code == 0, result.output
    api = served["app"]
    async with api.router.lifespan_context(api):
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://tracegraph.test") as client:
            assert (await client.get("/api/v1/stats")).status_code == 401
            signed = await client.get("/api/v1/stats", headers={"Authorization": f"Bearer {key}"})
            assert signed.status_code == 200
            assert (await client.get("/readyz")).status_code == 200


def test_files_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    """The store, its WAL and shared-memory files, the audit trail and the access file: 0600."""
    old = os.umask(0o022)
    try:
        url = f"sqlite:///{tmp_path / 'p.db'}"
        extra = tmp_path / "suppliers.csv"
        extra.write_text("supplier,name,country,status\nsupplier:NEW-1,New Polymers,DE,approved\n")
        script = (
            "import sys, time\n"
            "from services.app import Services\nfrom services.settings import Settings\n"
            "from services.access import AccessControl\nfrom pathlib import Path\n"
            f"s = Services.build(Settings(store={url!r}), migrate=True)\n"
            f"s.load_paths([Path({str(extra)!r})])\n"
            f"AccessControl.for_settings(Settings(store={url!r})).create_key(name='x', role='admin', actor='t')\n"
            "print('ready', flush=True); time.sleep(30)\n"
        )
        holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
            files = sorted(p for p in tmp_path.iterdir() if p.name.startswith("p.db"))
            names = {p.name for p in files}
            assert {"p.db", "p.db-wal", "p.db-shm", "p.db.audit.db", "p.db.access.db"} <= names, names
            assert {p.name: oct(_mode(p)) for p in files} == {p.name: oct(0o600) for p in files}
        finally:
            holder.kill()
            holder.wait()
    finally:
        os.umask(old)
