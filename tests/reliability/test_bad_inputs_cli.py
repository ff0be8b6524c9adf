"""The bad-inputs corpus of test_bad_inputs.py through the CLI: ``tracegraph load FILE`` and
``tracegraph udi parse`` refuse each with a message on stderr and a non-zero exit code, and
the store holds exactly what it held before."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.context import EXIT_INVALID, EXIT_REJECTED
from cli.main import app
from graph.sqlite.store import SQLiteStore
from tests.reliability.test_bad_inputs import CAPTURES, UPLOADS

runner = CliRunner()

#: Upload-only cases: a name the CLI never sees (the user names their own files).
NOT_FILES = {"path traversal in the name", "backslashes in the name", "NUL in the name", "a name that is no name"}
#: The CLI states these differently from the API (the file, not an upload, is named).
CLI_SAYS = {"unknown file type": "not", "formula as a key": "not supported"}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TRACEGRAPH_AUDIT", str(tmp_path / "audit.db"))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert runner.invoke(app, ["--store", url, "migrate"]).exit_code == 0
    return url


def written(url: str) -> tuple[int, int, int]:
    store = SQLiteStore(Path(url.removeprefix("sqlite:///")))
    try:
        s = store.stats()
        return s.nodes, s.edges, s.batches
    finally:
        store.close()


def refused(url: str, path: Path, says: str) -> None:
    before = written(url)
    result = runner.invoke(app, ["--store", url, "load", str(path)])
    assert result.exit_code in (EXIT_INVALID, EXIT_REJECTED), result.output
    assert says.lower() in result.stderr.lower(), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert written(url) == before


@pytest.mark.parametrize("case", list(CAPTURES))
def test_bad_epcis_files_are_refused_and_nothing_is_written(store: str, tmp_path: Path, case: str) -> None:
    media_type, body, says = CAPTURES[case]
    path = tmp_path / ("events.xml" if "xml" in media_type else "events.jsonld")
    path.write_bytes(body)
    refused(store, path, says)


@pytest.mark.parametrize("case", [c for c in UPLOADS if c not in NOT_FILES])
def test_bad_csv_files_are_refused_and_nothing_is_written(store: str, tmp_path: Path, case: str) -> None:
    name, body, _status, says = UPLOADS[case]
    directory = tmp_path / "upload"
    directory.mkdir()
    (directory / name).write_bytes(body)
    refused(store, directory / name, CLI_SAYS.get(case, says))


@pytest.mark.parametrize(
    ("barcode", "says"),
    [
        ("(01)09506000134353", "check digit"),
        ("(01)09506000134352(17)250230", "date"),
        ("(01)09506000134352\x1d(21)" + "S" * 5000, ""),
        ("=cmd|' /C calc'!A0", ""),
        ("\udcff\udcfe", ""),  # invalid UTF-8 on the command line, as Python hands it over
    ],
)
def test_bad_barcodes_are_reported_invalid(barcode: str, says: str) -> None:
    result = runner.invoke(app, ["udi", "parse", barcode])
    assert result.exit_code == EXIT_INVALID, result.output
    assert says in result.output
    assert "Traceback" not in result.output
