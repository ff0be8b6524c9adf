"""Finding the source: the scoring (risk.sources), the use case on every store
(services.sources through ``Services.likely_sources``), the command, and the planted supplier."""

from __future__ import annotations

import doctest
import json
import math
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

import risk.sources
from cli.context import EXIT_INVALID, EXIT_NOT_FOUND
from cli.main import app
from graph.port import GraphStore
from graph.sqlite.store import SQLiteStore
from loaders.synthetic import Defect, generate_plant
from risk.sources import Mark, fisher_greater, log_bayes_factor, mixture_llr, rank_sources
from schema.errors import InvalidInputError, NotFoundError
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import EdgeFact, FactBatch, NodeFact, TraceDirection, TraceQuery
from services.app import Services
from services.settings import Settings
from tests.factories import batch, device, edge, lot, node, t

runner = CliRunner()


# -- the scoring ------------------------------------------------------------------------------


def test_docstring_examples_run() -> None:
    result = doctest.testmod(risk.sources, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_the_statistics_agree_in_direction() -> None:
    # More cases through a node, or fewer controls, is always stronger evidence.
    def fisher(a: int, b: int) -> float:
        return -float(fisher_greater(a, 10, b, 990))

    def likelihood(a: int, b: int) -> float:
        return float(mixture_llr(a, 10, b, 990)[0])

    def bayes(a: int, b: int) -> float:
        return float(log_bayes_factor(a, 10, b, 990))

    for stat in (fisher, likelihood, bayes):
        assert stat(8, 100) > stat(7, 100) > stat(6, 100)
        assert stat(8, 100) > stat(8, 200) > stat(8, 400)
    # A node every unit passes through says nothing.
    assert mixture_llr(10, 10, 990, 990)[0] == 0.0
    assert float(fisher_greater(10, 10, 990, 990)) == pytest.approx(1.0)


def two_lots() -> tuple[nx.DiGraph, dict[str, set[str]], dict[str, set[str]], dict[str, int]]:
    G = nx.DiGraph()
    for key, kind in [
        ("lot:A", K.MATERIAL_LOT),
        ("lot:B", K.MATERIAL_LOT),
        ("wo:1", K.WORK_ORDER),
        ("wo:2", K.WORK_ORDER),
        ("plot:1", K.PRODUCT_LOT),
        ("supplier:S", K.SUPPLIER),
        ("inspection:I", K.INSPECTION),
    ]:
        G.add_node(key, kind=kind)
    up_a = {"lot:A", "wo:1", "plot:1", "supplier:S", "inspection:I"}
    up_b = {"lot:B", "wo:2", "supplier:S"}
    cases = {f"c{i}": up_a for i in range(6)} | {"noise": up_b}
    controls = {"units of A": up_a, "units of B": up_b}
    return G, cases, controls, {"units of A": 20, "units of B": 180}


def test_the_lot_holding_most_cases_and_few_controls_ranks_first() -> None:
    G, cases, controls, weights = two_lots()
    ranking = rank_sources(G, cases, controls, weights=weights)
    top = ranking.candidates[0]
    assert top.key == "lot:A" and top.rank == 1
    assert (top.explained, top.controls, top.common_link) == (6, 20, False)
    assert top.score == pytest.approx(6 / 7)
    # Same cases and same controls: one candidate, the lot shown, the others listed.
    assert set(top.equivalent) == {"wo:1", "plot:1"}
    assert "inspection:I" not in {c.key for c in ranking.candidates}  # evidence is not a source
    supplier = next(c for c in ranking.candidates if c.key == "supplier:S")
    assert supplier.common_link and supplier.explained == 7
    assert supplier.rank > top.rank
    assert 0.0 < top.top_share <= 1.0 if top.top_share is not None else False
    assert ranking.by_group()["material lot"][0] == "lot:A"
    assert any("significant" in note for note in ranking.notes)


def test_kinds_restrict_the_candidates() -> None:
    G, cases, controls, weights = two_lots()
    ranking = rank_sources(G, cases, controls, weights=weights, kinds={K.SUPPLIER})
    assert [c.key for c in ranking.candidates] == ["supplier:S"]


def test_every_statistic_ranks_the_clear_source_first() -> None:
    G, cases, controls, weights = two_lots()
    for statistic in ("bayes", "likelihood", "fisher"):
        ranking = rank_sources(G, cases, controls, weights=weights, statistic=statistic)
        assert ranking.candidates[0].key == "lot:A", statistic


def test_few_cases_and_no_controls_are_said_plainly() -> None:
    G, cases, _controls, _weights = two_lots()
    ranking = rank_sources(G, {"c0": cases["c0"], "c1": cases["noise"]}, None)
    assert ranking.controls == 0
    notes = " ".join(ranking.notes)
    assert "2 cases: weak evidence" in notes
    assert "No controls" in notes
    # Without controls only the cases explained count: the common link first, the lots tied.
    assert [(c.rank, c.key) for c in ranking.candidates] == [(1, "supplier:S"), (2, "lot:A"), (2, "lot:B")]
    assert ranking.candidates[0].top_share is None


def machine(runs: int = 6) -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_node("equipment:M", kind=K.EQUIPMENT)
    for i in range(runs):
        G.add_node(f"wo:{i}", kind=K.WORK_ORDER)
        G.add_edge("equipment:M", f"wo:{i}", type=E.USED_IN, at=i * 100.0, until=i * 100.0 + 50.0)
    return G


def test_the_equipment_window_is_the_run_range_that_separates_cases_from_controls() -> None:
    G = machine()
    cases = {f"c{i}": {"equipment:M", f"wo:{2 + i % 2}"} for i in range(6)}
    controls = {f"u{i}": {"equipment:M", f"wo:{i}"} for i in range(6)}
    ranking = rank_sources(G, cases, controls, weights=dict.fromkeys(controls, 30), kinds={K.EQUIPMENT})
    (window,) = ranking.candidates
    assert window.runs == ("wo:2", "wo:3")
    assert (window.explained, window.controls, window.windows_tried) == (6, 60, 3)
    assert window.window_start is not None and window.window_start.timestamp() == 200.0
    assert window.window_end is not None and window.window_end.timestamp() == 350.0
    # The window paid for being chosen among 3.
    assert window.p_adjusted == pytest.approx(min(1.0, 3 * window.p_value))


def test_a_change_record_is_its_machine_from_the_change_on() -> None:
    G = machine()
    G.add_node("change:CR-1", kind=K.CHANGE_RECORD)
    G.add_edge("change:CR-1", "equipment:M", type=E.AFFECTS, at=320.0)
    everything = {"equipment:M", "change:CR-1"}
    cases = {f"c{i}": everything | {f"wo:{4 + i % 2}"} for i in range(4)}
    controls = {f"u{i}": everything | {f"wo:{i}"} for i in range(6)}
    ranking = rank_sources(G, cases, controls, weights=dict.fromkeys(controls, 10), kinds={K.CHANGE_RECORD})
    (change,) = ranking.candidates
    assert change.group == "process change" and change.target == "equipment:M"
    assert change.runs == ("wo:3", "wo:4", "wo:5")  # wo:3 was still running at 320
    assert (change.explained, change.controls) == (4, 30)


def lots_a_and_b() -> tuple[nx.DiGraph, dict[str, set[str]], dict[str, set[str]]]:
    """Lots A and B, each consumed by one work order; two cases through each, 20 controls each."""
    G = nx.DiGraph()
    for name in ("A", "B"):
        G.add_node(f"lot:{name}", kind=K.MATERIAL_LOT)
        G.add_node(f"wo:{name}", kind=K.WORK_ORDER)
        G.add_edge(f"lot:{name}", f"wo:{name}", type=E.CONSUMED_BY)
    up = {name: {f"lot:{name}", f"wo:{name}"} for name in ("A", "B")}
    cases = {"a1": up["A"], "a2": up["A"], "b1": up["B"], "b2": up["B"]}
    return G, cases, {"units of A": up["A"], "units of B": up["B"]}


def test_a_signal_on_a_candidate_is_prior_weight() -> None:
    G, cases, controls = lots_a_and_b()
    weights = {"units of A": 20, "units of B": 20}
    tied = rank_sources(G, cases, controls, weights=weights)
    assert tied.candidates[0].rank == tied.candidates[1].rank == 1
    marked = Mark(node="lot:B", probability=0.7, label="inspection.fail on lot:B")
    ranking = rank_sources(G, cases, controls, weights=weights, signals=[marked])
    top = ranking.candidates[0]
    assert top.key == "lot:B" and top.rank == 1 and ranking.candidates[1].rank == 2
    assert top.log_prior_odds == pytest.approx(math.log(0.7 / risk.sources.SIGNAL_BASELINE))
    assert top.signals == ("inspection.fail on lot:B",)
    # A weak signal never counts against a node; Fisher's test ignores priors.
    weak = Mark(node="lot:B", probability=0.05)
    assert rank_sources(G, cases, controls, weights=weights, signals=[weak]).candidates[0].log_prior_odds == 0
    fisher = rank_sources(G, cases, controls, weights=weights, signals=[marked], statistic="fisher")
    assert fisher.candidates[0].rank == fisher.candidates[1].rank == 1


def test_a_machine_signal_counts_only_when_its_window_overlaps() -> None:
    G = machine()
    cases = {f"c{i}": {"equipment:M", f"wo:{2 + i % 2}"} for i in range(6)}
    controls = {f"u{i}": {"equipment:M", f"wo:{i}"} for i in range(6)}
    weights = dict.fromkeys(controls, 30)
    inside = Mark(node="equipment:M", probability=0.9, start=300.0, end=400.0)
    after = Mark(node="equipment:M", probability=0.9, start=500.0, end=600.0)
    (window,) = rank_sources(G, cases, controls, weights=weights, kinds={K.EQUIPMENT}, signals=[inside]).candidates
    assert window.log_prior_odds > 0
    (window,) = rank_sources(G, cases, controls, weights=weights, kinds={K.EQUIPMENT}, signals=[after]).candidates
    assert window.log_prior_odds == 0


def test_exposure_counts_a_node_by_its_units_chance_to_complain() -> None:
    """Lot B's units have been out a tenth as long as lot A's: two complaints from B are as
    telling as twenty would be from A, so B leads though the counts are equal."""
    G, cases, controls = lots_a_and_b()
    weights = {"units of A": 20, "units of B": 20}
    exposure = {"a1": 1.0, "a2": 1.0, "b1": 0.1, "b2": 0.1, "units of A": 20.0, "units of B": 2.0}
    ranking = rank_sources(G, cases, controls, weights=weights, exposure=exposure)
    assert [c.key for c in ranking.candidates[:1]] == ["lot:B"]
    assert ranking.candidates[0].controls == 20  # counts stay in units


def test_parsimony_folds_a_carrier_into_what_it_carried() -> None:
    """Lot A also fed wo:A3, whose units drew no complaint: wo:A explains the same cases with
    fewer controls, but two cases cannot prefer it by a Bayes factor of 10. The lot leads and
    wo:A is its carrier; with parsimony 1 the data decide and wo:A ranks above the lot."""
    G, cases, controls = lots_a_and_b()
    G.add_node("wo:A3", kind=K.WORK_ORDER)
    G.add_edge("lot:A", "wo:A3", type=E.CONSUMED_BY)
    controls = {**controls, "units of A3": {"lot:A", "wo:A3"}}
    weights = {"units of A": 20, "units of B": 20, "units of A3": 5}
    folded = rank_sources(G, cases, controls, weights=weights)
    keys = {c.key: c for c in folded.candidates}
    assert "wo:A" not in keys and keys["lot:A"].carriers == ("wo:A",)
    apart = [c.key for c in rank_sources(G, cases, controls, weights=weights, parsimony=1.0).candidates]
    assert apart.index("wo:A") < apart.index("lot:A")
    # A lot never folds into its supplier: the supplier is not a carrier.
    G.add_node("supplier:S", kind=K.SUPPLIER)
    G.add_edge("supplier:S", "lot:A", type=E.SUPPLIED)
    G.add_edge("supplier:S", "lot:B", type=E.SUPPLIED)
    with_supplier = {c: nodes | {"supplier:S"} for c, nodes in cases.items()}
    controls = {k: v | {"supplier:S"} for k, v in controls.items()}
    ranking = rank_sources(G, with_supplier, controls, weights=weights)
    assert {"lot:A", "lot:B", "supplier:S"} <= {c.key for c in ranking.candidates}


def test_no_case_is_an_error() -> None:
    with pytest.raises(ValueError):
        rank_sources(nx.DiGraph(), {}, {})


# -- the use case, on every store -------------------------------------------------------------

SUPPLIERS = ("supplier:S1", "supplier:S2")
LOTS = {"lot:A": "supplier:S1", "lot:B": "supplier:S2", "lot:C": "supplier:S1"}
#: Work order -> (material lots it consumed, its product lot)
WORK_ORDERS = {
    "wo:1": (("lot:A", "lot:C"), lot("P1")),
    "wo:2": (("lot:A",), lot("P2")),
    "wo:3": (("lot:B", "lot:C"), lot("P3")),
    "wo:4": (("lot:B",), lot("P4")),
}
PER_WORK_ORDER = 10


def units(wo: str) -> list[str]:
    n = int(wo.split(":")[1])
    return [device(f"D{n}{i:02d}") for i in range(PER_WORK_ORDER)]


#: Three complaints on devices of lot A's work orders, one (background) on lot B's.
COMPLAINTS = {
    "complaint:C1": units("wo:1")[0],
    "complaint:C2": units("wo:2")[3],
    "complaint:C3": units("wo:2")[5],
    "complaint:C4": units("wo:3")[1],
}


def small_plant() -> FactBatch:
    """Lots A and C of supplier S1, lot B of S2, four work orders on machine M (changed before
    the third), ten devices each; lot A inspected marginal."""
    facts: list[NodeFact | EdgeFact] = [node(s, K.SUPPLIER) for s in SUPPLIERS]
    facts.append(node("equipment:M", K.EQUIPMENT))
    facts.append(node("change:CR-1", K.CHANGE_RECORD, effective_at=t(25).isoformat(), status="implemented"))
    facts.append(edge(E.AFFECTS, "change:CR-1", "equipment:M"))
    facts.append(node("inspection:I-1", K.INSPECTION, result="marginal", type="in_process", target="lot:A"))
    facts.append(edge(E.INSPECTED, "inspection:I-1", "lot:A", at=t(1)))
    for key, supplier in LOTS.items():
        facts += [node(key, K.MATERIAL_LOT), edge(E.SUPPLIED, supplier, key, at=t(0))]
    for n, (wo, (consumed, product_lot)) in enumerate(WORK_ORDERS.items(), 1):
        begin = t(10 * n)
        facts += [node(wo, K.WORK_ORDER), node(product_lot, K.PRODUCT_LOT)]
        facts += [edge(E.CONSUMED_BY, m, wo, at=begin, quantity=5) for m in consumed]
        facts.append(edge(E.USED_IN, "equipment:M", wo, at=begin, until=t(10 * n + 5)))
        facts.append(edge(E.PRODUCED, wo, product_lot, at=t(10 * n + 5)))
        for unit in units(wo):
            facts += [node(unit, K.DEVICE), edge(E.PRODUCED, wo, unit, at=t(10 * n + 1))]
            facts.append(edge(E.INCLUDES, product_lot, unit))
    for complaint, unit in COMPLAINTS.items():
        facts += [node(complaint, K.COMPLAINT, failure_mode="leak"), edge(E.CONCERNS, complaint, unit)]
    facts.append(node("complaint:ORPHAN", K.COMPLAINT))
    return batch(*facts)


@pytest.fixture
def services(store: GraphStore, tmp_path: Path) -> Iterator[Services]:
    store.apply(small_plant())
    yield Services(store=store, settings=Settings(store=f"sqlite:///{tmp_path}/unused.db"))


def test_complaints_are_traced_from_the_units_they_concern(services: Services) -> None:
    answer = services.likely_sources(list(COMPLAINTS))
    assert [(c.key, c.unit) for c in answer.cases] == list(COMPLAINTS.items())
    assert answer.controls_mode == "auto"
    # Every other device was built in the period and has no complaint.
    assert answer.controls == 4 * PER_WORK_ORDER - len(COMPLAINTS)
    assert answer.period_start is not None and answer.period_end is not None
    top = answer.candidates[0]
    assert top.key == "lot:A" and top.rank == 1
    assert (top.explained, top.controls) == (3, 2 * PER_WORK_ORDER - 3)
    assert top.cases == ("complaint:C1", "complaint:C2", "complaint:C3")
    # Paths run from the complaint through its unit up to the candidate.
    assert top.paths[0][:2] == ("complaint:C1", COMPLAINTS["complaint:C1"])
    assert top.paths[0][-1] == "lot:A"
    assert all(p[-1] == "lot:A" for p in top.paths)
    # Evidence on the lot, problems first.
    assert top.evidence[0].key == "inspection:I-1" and top.evidence[0].flagged
    # The next step: its forward impact and its recall scope.
    assert top.next is not None
    assert top.next.trace == "tracegraph trace forward lot:A"
    assert top.next.recall == "tracegraph recall --from lot:A"
    assert top.next.recall_call == "services.recall_scope(starts=['lot:A'])"
    assert "4 cases: weak evidence" in " ".join(answer.notes)
    assert set(answer.by_group) >= {"material lot", "equipment window"}
    # Parsimony: the work orders that only carried lot A's material, and explain no case it
    # does not, are folded into it rather than ranked against it.
    assert "wo:2" in top.carriers and "wo:2" not in {c.key for c in answer.candidates}
    # The marginal inspection of lot A is prior weight, and says so.
    assert top.log_prior_odds > 0 and any("inspection" in s for s in top.signals)


def test_the_next_commands_run(services: Services) -> None:
    top = services.likely_sources(list(COMPLAINTS)).candidates[0]
    impact = services.trace(TraceQuery(starts=(top.key,), kinds=frozenset({K.DEVICE})))
    assert impact.total == 2 * PER_WORK_ORDER
    scope = services.recall_scope(starts=[top.key])
    assert len(scope.devices) == 2 * PER_WORK_ORDER


def test_the_machine_window_and_the_change_on_it(services: Services) -> None:
    answer = services.likely_sources(list(COMPLAINTS), limit=50)
    window = next(c for c in answer.candidates if c.group == "equipment window")
    assert window.key == "equipment:M" and window.window_start is not None
    assert window.next is not None and "--from" in window.next.trace and "--window-from" in window.next.recall
    # The change (from t25 on: wo:3 and wo:4) explains what lot B does: the same candidate.
    change = next(c for c in answer.candidates if "change:CR-1" in (c.key, *c.equivalent))
    assert change.key == "lot:B" and set(change.equivalent) == {"change:CR-1", "supplier:S2"}
    assert change.cases == ("complaint:C4",)


def test_explicit_controls_and_units_as_cases(services: Services) -> None:
    cases = [COMPLAINTS["complaint:C2"], COMPLAINTS["complaint:C3"]]
    controls = units("wo:1")[1:4] + units("wo:3")[2:6]
    answer = services.likely_sources(cases, controls=controls)
    assert answer.controls_mode == "explicit" and answer.controls == len(controls)
    assert answer.period_start is None
    top = answer.candidates[0]
    # Both cases came from wo:2, which no control passed through. wo:2 is also machine M's
    # run in that window (the same cases and controls): an entry point of its own, so it does
    # not fold into lot A, the lot it consumed, as a mere carrier would.
    assert top.key == "wo:2" and top.controls == 0 and "equipment:M" in top.equivalent
    assert top.paths[0][0] == cases[0]
    assert not top.carriers


def test_kinds_and_errors(services: Services) -> None:
    only = services.likely_sources(list(COMPLAINTS), kinds=[K.SUPPLIER])
    assert {c.group for c in only.candidates} == {"supplier"}
    with pytest.raises(NotFoundError):
        services.likely_sources(["complaint:NOPE"])
    with pytest.raises(InvalidInputError, match="concerns no unit"):
        services.likely_sources(["complaint:ORPHAN"])
    with pytest.raises(InvalidInputError):
        services.likely_sources([])
    with pytest.raises(InvalidInputError):
        services.likely_sources(list(COMPLAINTS), kinds=[K.DEVICE])


def test_as_of_before_the_complaints_were_known(services: Services) -> None:
    with pytest.raises(NotFoundError):
        services.likely_sources(list(COMPLAINTS), as_of=t(-1000))


def test_every_store_gives_the_same_answer(services: Services, tmp_path: Path) -> None:
    reference_store = SQLiteStore(tmp_path / "reference.db")
    reference_store.migrate()
    reference_store.apply(small_plant())
    reference = Services(store=reference_store, settings=Settings(store=f"sqlite:///{tmp_path}/unused.db"))
    try:
        for kwargs in ({}, {"controls": units("wo:4")}, {"statistic": "fisher"}):
            expected = reference.likely_sources(list(COMPLAINTS), **kwargs).to_json()
            assert services.likely_sources(list(COMPLAINTS), **kwargs).to_json() == expected
    finally:
        reference_store.close()


def test_grouped_control_traces_equal_one_trace_per_unit(services: Services) -> None:
    """Controls of one work order are traced once, from their parents: the same upstream nodes
    a backward trace from each of them reaches."""
    from services.sources import _trace, _units

    info = _units(services, units("wo:3"), None)
    parents = sorted(info[units("wo:3")[0]].parents)
    grouped = {n.key for n in _trace(services, parents, None).nodes} | set(parents)
    for unit in units("wo:3"):
        alone = services.trace(TraceQuery(starts=(unit,), direction=TraceDirection.BACKWARD))
        assert {n.key for n in alone.nodes if n.kind is not K.COMPLAINT} == grouped - {
            k for k in grouped if k.startswith("complaint:")
        }


# -- the command ------------------------------------------------------------------------------


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    path = tmp_path / "sources.db"
    store = SQLiteStore(path)
    store.migrate()
    store.apply(small_plant())
    store.close()
    return f"sqlite:///{path}"


def test_cli_json(store_url: str) -> None:
    result = runner.invoke(
        app,
        ["--store", store_url, "sources", "--cases", "complaint:C1,complaint:C2", "--cases", "complaint:C3", "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["candidates"][0]["key"] == "lot:A"
    assert payload["controls_mode"] == "auto"
    assert payload["candidates"][0]["next"]["recall"] == "tracegraph recall --from lot:A"
    assert payload["notes"]


def test_cli_table(store_url: str) -> None:
    result = runner.invoke(
        app, ["--store", store_url, "sources", "--cases", " ".join(COMPLAINTS), "--kinds", "MaterialLot,Supplier"]
    )
    assert result.exit_code == 0, result.output
    assert "likely sources" in result.stdout and "lot:A" in result.stdout
    assert "tracegraph recall --from lot:A" in result.stdout


def test_cli_errors(store_url: str) -> None:
    no_cases = runner.invoke(app, ["--store", store_url, "sources"])
    assert no_cases.exit_code == EXIT_INVALID
    both = runner.invoke(
        app,
        ["--store", store_url, "sources", "--cases", "complaint:C1", "--controls", device("D301"), "--controls-auto"],
    )
    assert both.exit_code == EXIT_INVALID
    missing = runner.invoke(app, ["--store", store_url, "sources", "--cases", "complaint:NOPE"])
    assert missing.exit_code == EXIT_NOT_FOUND


# -- the planted supplier ---------------------------------------------------------------------


def test_a_bad_supplier_is_planted_with_its_truth(tmp_path: Path) -> None:
    defect = Defect.model_validate({"kind": "bad_supplier", "part": "part:PK-POUCH", "complaint_rate": 0.2})
    manifest = generate_plant(tmp_path / "a", scale="small", seed=1, inject=[defect])
    (truth,) = manifest.defects
    assert truth.kind == "bad_supplier" and truth.roots == [truth.supplier]
    assert truth.supplier in {"supplier:SUP-013", "supplier:SUP-022"}
    assert truth.device_count == len(truth.devices) > 0
    assert truth.complaints
    again = generate_plant(tmp_path / "b", scale="small", seed=1, inject=[defect])
    assert again.defects == manifest.defects


def test_a_bad_supplier_needs_a_second_source(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        generate_plant(tmp_path, scale="small", seed=1, inject=[Defect(kind="bad_supplier", part="part:PC-NFV")])
