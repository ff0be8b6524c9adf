"""``tracegraph recall``, ``signals``, ``suppliers``, ``alerts`` and ``tasks`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.context import EXIT_INVALID, EXIT_NOT_FOUND
from cli.main import app
from graph.sqlite.store import SQLiteStore
from loaders.synthetic import Defect, generate_plant
from tests.conformance.plants import D1, D2, D3, DISTRIBUTOR, HOSPITAL_1, HOSPITAL_2, LOT, RESIN_LOT, repack_plant

runner = CliRunner()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    path = tmp_path / "cli.db"
    store = SQLiteStore(path)
    store.migrate()
    store.apply(repack_plant())
    store.close()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def plant_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small synthetic plant with a mislabelled lot, loaded the way users load."""
    root = tmp_path_factory.mktemp("plant")
    generate_plant(root / "plant", scale="small", seed=2, inject=[Defect(kind="mislabelled_lot")])
    url = f"sqlite:///{root / 'plant.db'}"
    result = runner.invoke(app, ["--store", url, "load", str(root / "plant")])
    assert result.exit_code == 0, result.stderr
    return url


def run(store_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--store", store_url, *args])
    return result.exit_code, result.stdout, result.stderr


def test_recall_json_is_one_object_in_the_documented_shape(store_url: str) -> None:
    code, out, _ = run(store_url, "recall", "--from", RESIN_LOT, "--json")
    assert code == 0
    data = json.loads(out)
    assert {"devices", "by_consignee", "by_lot", "sensitivity", "on_hand", "shipped"} <= set(data)
    assert {d["key"] for d in data["devices"]} == {D1, D2, D3}
    device = next(d for d in data["devices"] if d["key"] == D1)
    assert device["probability"] == 1.0 and device["path"][0] == RESIN_LOT and device["path"][-1] == D1
    # Placed by time: D1 went on to hospital 1; D2 and D3 stayed at the distributor; nothing
    # of ours reached hospital 2, where the emptied case went later.
    consignees = {g["key"]: g for g in data["by_consignee"]}
    assert consignees[HOSPITAL_1]["devices"] == [D1] and consignees[HOSPITAL_1]["count"] == 1
    assert consignees[DISTRIBUTOR]["devices"] == sorted([D2, D3])
    assert HOSPITAL_2 not in consignees
    assert [g["key"] for g in data["by_lot"]] == [LOT]
    assert [row["threshold"] for row in data["sensitivity"]] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert data["on_hand"] == [] and {s["device"] for s in data["shipped"]} == {D1, D2, D3}


def test_recall_threshold_probability_and_comparison(store_url: str) -> None:
    code, out, _ = run(store_url, "recall", "--from", RESIN_LOT, "--probability", "0.4", "--compare", "--json")
    data = json.loads(out)
    assert code == 0 and data["devices"] == [] and data["sensitivity"][3]["devices"] == 3
    assert data["comparison"] == {"time_respecting": 3, "plain": 3}
    code, out, _ = run(store_url, "recall", "--from", RESIN_LOT, "--threshold", "0.3")
    assert code == 0 and "3 device(s) in scope" in out and "sensitivity" in out and "St. Mary" in out


def test_recall_needs_a_start_and_names_what_it_cannot_find(store_url: str) -> None:
    code, _, err = run(store_url, "recall")
    assert code == EXIT_INVALID and "--from KEY or --signal ID" in err
    code, _, err = run(store_url, "recall", "--from", "lot:NOPE")
    assert code == EXIT_NOT_FOUND and "lot:NOPE" in err
    code, _, err = run(store_url, "recall", "--signal", "sig-000000000000")
    assert code == EXIT_NOT_FOUND and "sig-000000000000" in err


def test_signals_then_recall_by_signal(plant_url: str) -> None:
    code, out, _ = run(plant_url, "signals", "--rule", "labels", "--json")
    assert code == 0
    (signal,) = json.loads(out)["signals"]
    assert signal["rule"] == "labels.mismatch" and len(signal["targets"]) == 40
    code, out, _ = run(plant_url, "recall", "--signal", signal["id"], "--json")
    data = json.loads(out)
    assert code == 0 and sorted(d["key"] for d in data["devices"]) == sorted(signal["targets"])
    code, out, _ = run(plant_url, "signals")
    assert code == 0 and "signal(s); scope one with: tracegraph recall --signal ID" in out


def test_suppliers_scorecard(plant_url: str) -> None:
    code, out, _ = run(plant_url, "suppliers", "scorecard", "--json")
    scores = json.loads(out)["suppliers"]
    assert code == 0 and scores and {"supplier", "grade", "reject_rate", "late", "short"} <= set(scores[0])
    code, out, _ = run(plant_url, "suppliers", "scorecard")
    assert code == 0 and "grade" in out


def test_alerts_opened_on_load_then_a_task_moved_to_closed(plant_url: str) -> None:
    code, out, _ = run(plant_url, "alerts", "list", "--json")
    alerts = json.loads(out)["alerts"]
    mislabel = next(a for a in alerts if a["rule"] == "mislabelled-devices")
    assert mislabel["grade"] == "recall-candidate" and mislabel["state"] == "open"
    code, out, _ = run(plant_url, "alerts", "list", "--node", mislabel["node"], "--json")
    about = [a["key"] for a in json.loads(out)["alerts"]]
    assert (
        code == 0 and mislabel["key"] in about and about == [a["key"] for a in alerts if a["node"] == mislabel["node"]]
    )
    code, out, _ = run(plant_url, "tasks", "list", "--node", mislabel["node"], "--json")
    assert code == 0 and set(mislabel["tasks"]) <= {t["key"] for t in json.loads(out)["tasks"]}
    code, out, _ = run(plant_url, "alerts", "run", "--json")
    assert code == 0 and json.loads(out)["opened"] == []  # the same conditions: no new alert
    code, out, _ = run(plant_url, "alerts", "show", mislabel["key"])
    assert code == 0 and "history" in out and "Devices" in out
    code, out, _ = run(plant_url, "alerts", "show", mislabel["key"], "--json")
    assert json.loads(out)["history"][0]["reason"].startswith("opened by rule mislabelled-devices")
    (task,) = mislabel["tasks"]
    code, _, err = run(plant_url, "tasks", "move", task, "closed")
    assert code != 0 and "cannot move from open to closed" in err
    steps = [
        ("investigating",),
        (
            "action",
            "--field",
            "root_cause=labels of the previous lot left on the line",
            "--field",
            "action=nonconformance",
        ),
        ("verification", "--field", "disposition=relabel on hand, recall shipped"),
        ("closed", "--field", "effectiveness_check=line clearance checklist signed", "--reason", "done"),
    ]
    for state, *options in steps:
        code, out, err = run(plant_url, "tasks", "move", task, state, *options, "--json")
        assert code == 0, err
    data = json.loads(out)
    assert data["state"] == "closed" and data["records"][0].startswith("nc:")
    code, out, _ = run(plant_url, "tasks", "list", "--state", "closed")
    assert code == 0 and "closed" in out
    code, out, _ = run(plant_url, "alerts", "show", mislabel["key"], "--json")
    assert json.loads(out)["state"] == "closed"
    code, _, err = run(plant_url, "tasks", "move", task, "action", "--field", "oops")
    assert code == EXIT_INVALID and "name=value" in err
