"""Finding the source: which upstream node is common to a set of complaints or failures.

Every *case* (a complained or failed unit) and every *control* (a comparable unit without a
complaint) is traced backward; :func:`rank_sources` then scores each upstream node they reach
by two counts:

``explained``
    How many cases pass through it. Divided by the number of cases this is FoodChain-Lab's
    normalised tracing score (Weiser et al., PLOS ONE 11(3): e0151977, 2016): 1.0 marks a
    *common link*, a node on the backward trace of every case.
``controls``
    How many controls pass through it too: a node every unit passes through explains every
    complaint and says nothing.

Both counts become one ranking, by default through a likelihood ratio: that of a mixture
model, as Kaufman et al. use for contaminated food products and sales data ("A
Likelihood-Based Approach to Identifying Contaminated Food Products Using Sales Data",
PLOS Computational Biology, 2014). If node ``v`` is the source, each case is a unit of ``v``
with probability ``pi`` (drawn at random among ``v``'s units) or a background complaint on
any unit with probability ``1 - pi``; against no source at all::

    LR(v, pi) = (1 + pi * (N / s - 1)) ** a * (1 - pi) ** (n - a)

with ``a`` cases explained out of ``n``, ``s`` units through ``v`` (cases and controls) and
``N`` units in all. Background complaints thus cost a candidate little, which a common-link
count alone cannot say.

``statistic="bayes"`` (the default) ranks by the Bayes factor: ``LR`` averaged over ``pi``
under a Beta(9, 1) prior, which says that nearly all of the cases brought together as one
problem (a cluster of complaints reporting one failure mode) share its source, one in ten
on average not. Without it (``"likelihood"``, the best ``pi``), a node holding half of the
cases by chance and few controls competes with the node holding nearly all of them; on the
synthetic plant's ground truth the prior ranks the true source first more often
(``bench/sources_accuracy.py``). ``"fisher"`` ranks by Fisher's one-sided exact test of the
same 2 x 2 table, whose p-value is shown with every statistic. ``attributable`` is the best
``pi``: the share of the cases the node accounts for.

Equipment is a node *in a time window*: its ``USED_IN`` runs form a sequence, and the
candidate is the window of consecutive runs that best separates cases from controls
(windows begin and end on runs some case passed through; a wider one only adds controls).
Choosing the window is fitting a parameter, so the window's p-value is multiplied by the
number of windows tried (Bonferroni) and its log-likelihood ratio and log Bayes factor pay
``log`` of that number (a uniform prior over the windows tried). A change record on a
machine is the machine from the change on.

Nodes that explain exactly the same cases and pass exactly the same controls (a work order
and the product lot it made; a lot and the only work order that consumed it in the period)
cannot be told apart by any count: they are one candidate, listed as ``equivalent``.

Three more things shape the ranking. *Exposure*: a unit shipped yesterday has had little
chance to draw a complaint, so the likelihood may count each unit by its exposure
(``exposure``) rather than as one. *Prior weight*: anomaly signals read from other records
(a failed inspection, a calibration found out of tolerance, a process shift; ``signals``)
make a candidate likelier a priori, by at most ``p / signal_baseline``. *Parsimony*: a work
order or product lot that explains no case an upstream candidate does not, and that the data
do not prefer by the ``parsimony`` Bayes factor, only carried the defect: it is folded into
that candidate and listed among its ``carriers``.

Algorithms here take networkx graphs and plain mappings, never a store. Graph conventions
are those of :mod:`risk.propagation`: node attribute ``kind`` (a :class:`~schema.kinds.NodeKind`),
edge attributes ``type`` (an :class:`~schema.kinds.EdgeType`) and ``at``/``until`` (epoch seconds
or None).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

import networkx as nx
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field
from scipy.stats import hypergeom

from schema.kinds import EdgeType, NodeKind
from schema.model import from_epoch

#: What can be a source, and the group each is listed under.
GROUPS: dict[NodeKind, str] = {
    NodeKind.SUPPLIER: "supplier",
    NodeKind.MATERIAL_LOT: "material lot",
    NodeKind.PRODUCT_LOT: "product lot",
    NodeKind.WORK_ORDER: "work order",
    NodeKind.EQUIPMENT: "equipment window",
    NodeKind.CHANGE_RECORD: "process change",
}
CANDIDATE_KINDS = frozenset(GROUPS)

#: Which member of a set of equivalent candidates is shown: the narrowest, most actionable
#: explanation first (a lot before the one work order it fed, a work order before the
#: product lot it made or a one-run equipment window, a lot before its supplier).
KIND_PREFERENCE: dict[NodeKind, int] = {
    NodeKind.MATERIAL_LOT: 0,
    NodeKind.WORK_ORDER: 1,
    NodeKind.PRODUCT_LOT: 2,
    NodeKind.EQUIPMENT: 3,
    NodeKind.CHANGE_RECORD: 4,
    NodeKind.SUPPLIER: 5,
}

Statistic = Literal["bayes", "likelihood", "fisher"]
#: Cases, controls and nodes: anything hashable, as in networkx.
CaseT = TypeVar("CaseT", bound=Hashable)
ControlT = TypeVar("ControlT", bound=Hashable)
NodeT = TypeVar("NodeT", bound=Hashable)

#: Beta prior on the attributable share of the "bayes" statistic: nearly all cases that are
#: brought together as one problem come from its source (mean 0.9), but a few may not. On
#: the synthetic plant's ground truth Beta(9, 1) ranks the source first more often than
#: Beta(3, 1) or Beta(5, 1), with or without unrelated complaints among the cases
#: (``docs/reference/sources.md``, "Measured accuracy").
DEFAULT_PRIOR = (9.0, 1.0)
#: Midpoints of the attributable share the Bayes factor integrates over.
_GRID = (np.arange(64) + 0.5) / 64

#: Parsimony: a downstream candidate that explains no case an upstream one does not is folded
#: into it unless the data prefer it by at least this Bayes factor.
PARSIMONY = 10.0
#: What only carries material from upstream to downstream, and so folds into what it carries.
CARRIER_KINDS = frozenset({NodeKind.WORK_ORDER, NodeKind.PRODUCT_LOT})
#: Prior anomaly probability of a node without a signal: a signal of probability ``p`` makes
#: a node ``p / SIGNAL_BASELINE`` times as likely a source a priori (never less likely).
SIGNAL_BASELINE = 0.1

#: Fewer cases than this: say plainly that the evidence is weak.
WEAK_CASES = 5
#: Significance level of the plain-language statements (after Bonferroni over candidates).
ALPHA = 0.05


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Evidence(_Model):
    """A record on a candidate: an inspection, calibration, process run or change record."""

    key: str
    kind: NodeKind | None = None
    relation: EdgeType
    at: datetime | None = None
    summary: str = ""
    flagged: bool = Field(False, description="The record reads as a problem: failed, marginal, out of tolerance, open")


class NextSteps(_Model):
    """What to run next from a candidate: its forward impact and its recall scope."""

    trace: str = Field(description="CLI: the forward trace (impact) from the candidate")
    recall: str = Field(description="CLI: the recall scope if the candidate is the source")
    trace_call: str = Field(description="The same trace as a service call")
    recall_call: str = Field(description="The same recall scope as a service call")
    trace_url: str = Field("", description="The same trace over REST (GET, relative to the API's root)")
    recall_url: str = Field("", description="The same recall scope over REST (GET)")


class Candidate(_Model):
    """One upstream node (or machine window) scored as the possible source of the cases."""

    rank: int = Field(description="1 is the most likely; tied candidates share a rank")
    key: str
    kind: NodeKind
    group: str = Field(description="supplier, material lot, product lot, work order, equipment window, process change")
    window_start: datetime | None = Field(None, description="Equipment and changes: the window's first run began")
    window_end: datetime | None = Field(None, description="... and its last run ended (None: still open)")
    runs: tuple[str, ...] = Field((), description="Equipment: the work orders run in the window, in order")
    target: str | None = Field(None, description="Process change: the machine (or other node) it changed")
    cases: tuple[str, ...] = Field(description="The cases it explains")
    explained: int
    score: float = Field(description="FoodChain-Lab's normalised score: explained / cases")
    common_link: bool = Field(description="It explains every case")
    controls: int = Field(description="Controls that pass through it too")
    control_share: float
    exposure_share: float = Field(
        0.0, description="Its share of the exposure of all units, cases and controls (of the units, without exposure)"
    )
    log_bayes_factor: float = Field(
        description="Source against no source, over a prior on the attributable share; less log(windows tried)"
    )
    log_likelihood_ratio: float = Field(description="Of the mixture model at its best share; less log(windows tried)")
    attributable: float = Field(description="Share of the cases the mixture model attributes to it")
    odds_ratio: float = Field(description="Of cases against controls, with 0.5 added to every cell")
    p_value: float = Field(description="Fisher's exact test, one-sided (more cases pass through it than chance)")
    p_adjusted: float = Field(description="p-value times the windows tried (Bonferroni); the p-value otherwise")
    windows_tried: int = 1
    top_share: float | None = Field(None, description="Share of bootstrap resamples of the cases ranking it first")
    equivalent: tuple[str, ...] = Field((), description="Nodes with the same cases and controls: indistinguishable")
    carriers: tuple[str, ...] = Field(
        (),
        description="Downstream candidates it explains away: they explain no case it does not, and the data "
        "do not prefer them by a Bayes factor of PARSIMONY or more",
    )
    log_prior_odds: float = Field(
        0.0, description="Prior weight from the anomaly signals on it (failed inspections, calibration lapses, ...)"
    )
    signals: tuple[str, ...] = Field((), description="The anomaly signals that gave it prior weight")
    paths: tuple[tuple[str, ...], ...] = Field((), description="Explaining paths, from a case up to the candidate")
    evidence: tuple[Evidence, ...] = ()
    next: NextSteps | None = None


class SourceRanking(_Model):
    """What :func:`rank_sources` finds."""

    cases: int
    controls: int
    statistic: Statistic
    candidates: tuple[Candidate, ...]
    tested: int = Field(description="Distinct candidates scored (equivalent nodes count once)")
    notes: tuple[str, ...] = Field((), description="The ranking's uncertainty, in plain words")

    def by_group(self) -> dict[str, list[str]]:
        """Candidate keys per group, each in rank order."""
        out: dict[str, list[str]] = {}
        for c in self.candidates:
            out.setdefault(c.group, []).append(c.key)
        return out


class Mark(_Model):
    """An anomaly signal on a node, as prior weight: how likely the node is to be anomalous on
    the records alone (a failed or marginal inspection, a calibration found out of tolerance,
    a process shift), over a time window for a machine."""

    node: str
    probability: float = Field(ge=0.0, le=1.0)
    start: float | None = Field(None, description="Epoch seconds; None: open")
    end: float | None = None
    label: str = ""


class CaseUnit(_Model):
    """A case as given (a unit, or a complaint) and the unit it stands for."""

    key: str
    unit: str
    produced_at: datetime | None = None


class LikelySources(_Model):
    """The answer of ``Services.likely_sources``: the ranking, and what it was computed from."""

    cases: tuple[CaseUnit, ...]
    controls_mode: Literal["auto", "explicit"]
    controls: int = Field(description="Units compared against (without a complaint)")
    period_start: datetime | None = Field(None, description="Automatic controls: built from ...")
    period_end: datetime | None = Field(None, description="... until")
    statistic: Statistic
    tested: int = Field(description="Distinct candidates scored (equivalent nodes count once)")
    total: int = Field(description="Candidates ranked; ``candidates`` lists the first and each group's leader")
    candidates: tuple[Candidate, ...]
    by_group: dict[str, list[str]] = Field(description="Listed candidate keys per group, in rank order")
    notes: tuple[str, ...] = Field(description="The ranking's uncertainty, in plain words")
    is_partial: bool = Field(False, description="A trace was cut short by a server budget")
    as_of: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The shape of ``tracegraph sources --json``."""
        data: dict[str, Any] = self.model_dump(mode="json")
        return data


# -- statistics --------------------------------------------------------------------------------


def fisher_greater(a: Any, n_cases: int, b: Any, n_controls: int) -> Any:
    """One-sided Fisher exact test: P(at least ``a`` of the cases pass through a node that
    ``a + b`` of all units pass through), under no association. Vectorised over ``a`` and ``b``.

    It is the hypergeometric tail, which is what ``scipy.stats.fisher_exact`` computes with
    ``alternative="greater"`` for the table ``[[a, n_cases - a], [b, n_controls - b]]``:

    >>> from scipy.stats import fisher_exact
    >>> round(float(fisher_greater(4, 5, 10, 95)), 6)
    0.00117
    >>> round(float(fisher_exact([[4, 1], [10, 85]], alternative="greater").pvalue), 6)
    0.00117
    """
    a_arr = np.asarray(a, dtype=np.int64)
    b_arr = np.asarray(b, dtype=np.int64)
    return np.minimum(1.0, hypergeom.sf(a_arr - 1, n_cases + n_controls, a_arr + b_arr, n_cases))


def _odds_base(a: Any, n_cases: int, b: Any, n_controls: int, share: Any) -> Any:
    """``1 / share``: all units over the node's units (or their exposure, when ``share`` is
    given), 1 for a node no unit passes through."""
    if share is None:
        s = np.asarray(a, dtype=np.float64) + np.asarray(b, dtype=np.float64)
        share = np.where(s > 0, s / max(1.0, float(n_cases + n_controls)), 0.0)
    share_arr = np.asarray(share, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(share_arr > 0, 1.0 / np.clip(share_arr, 1e-12, 1.0), 1.0)


def mixture_llr(a: Any, n_cases: int, b: Any, n_controls: int, *, share: Any = None) -> tuple[Any, Any]:
    """Log-likelihood ratio of "the node is the source, with background complaints" against
    "no source", maximised over the attributable share ``pi``; returns ``(llr, pi)``.
    Vectorised over ``a`` and ``b``. See the module docstring for the model.

    >>> llr, pi = mixture_llr(4, 5, 10, 95)  # 4 of 5 cases, 10 of 95 controls
    >>> round(float(llr), 3), round(float(pi), 3)
    (5.513, 0.767)
    >>> mixture_llr(5, 5, 95, 95)[0]  # every unit passes through it: no information
    0.0
    """
    a_arr = np.asarray(a, dtype=np.float64)
    r = _odds_base(a_arr, n_cases, b, n_controls, share)
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = np.where(r > 1.0, (a_arr * r - n_cases) / (n_cases * (r - 1.0)), 0.0)
        pi = np.clip(np.nan_to_num(pi, nan=0.0), 0.0, 1.0)
        rest = n_cases - a_arr
        llr = a_arr * np.log1p(pi * (r - 1.0)) + np.where(rest > 0, rest * np.log1p(-np.minimum(pi, 1.0 - 1e-12)), 0.0)
    llr = np.maximum(llr, 0.0)
    if llr.ndim == 0:
        return float(llr), float(pi)
    return llr, pi


def log_bayes_factor(
    a: Any, n_cases: int, b: Any, n_controls: int, *, prior: tuple[float, float] = DEFAULT_PRIOR, share: Any = None
) -> Any:
    """Log Bayes factor of "the node is the source" against "no source": the mixture
    likelihood ratio averaged over the attributable share ``pi`` under a Beta ``prior``.
    Vectorised over ``a`` and ``b``.

    Where :func:`mixture_llr` lets ``pi`` fall as low as the data like, so that a node
    holding half of the cases competes with one holding nearly all, the prior says that most
    of the cases brought together as one problem share its source.

    Half of 10 cases in a node 45 of 990 controls pass through, against 9 of 10 in one that
    300 pass through: the best-share likelihood ratio prefers the first, the Bayes factor the
    second.

    >>> round(float(mixture_llr(5, 10, 45, 990)[0]), 2), round(float(mixture_llr(9, 10, 300, 990)[0]), 2)
    (8.3, 7.69)
    >>> round(float(log_bayes_factor(5, 10, 45, 990)), 2), round(float(log_bayes_factor(9, 10, 300, 990)), 2)
    (5.29, 7.29)
    """
    a_arr = np.asarray(a, dtype=np.float64)
    r = _odds_base(a_arr, n_cases, b, n_controls, share)[..., None]
    pi = _GRID
    log_lr = a_arr[..., None] * np.log1p(pi * (r - 1.0)) + (n_cases - a_arr)[..., None] * np.log1p(-pi)
    alpha, beta = prior
    log_prior = (alpha - 1.0) * np.log(pi) + (beta - 1.0) * np.log1p(-pi)
    log_prior = log_prior - np.log(np.exp(log_prior - log_prior.max()).sum()) - log_prior.max()
    joined = log_lr + log_prior
    top = joined.max(axis=-1)
    out = top + np.log(np.exp(joined - top[..., None]).sum(axis=-1))
    return float(out) if np.ndim(out) == 0 else out


def strength(
    a: Any,
    n_cases: int,
    b: Any,
    n_controls: int,
    *,
    statistic: Statistic = "bayes",
    tried: Any = 1,
    prior: tuple[float, float] = DEFAULT_PRIOR,
    share: Any = None,
) -> Any:
    """What the ranking sorts on, larger first: the log Bayes factor, the log-likelihood ratio,
    or ``-log10`` of Fisher's p-value, each paying for the ``tried`` windows a machine's
    candidate was chosen from (``log(tried)``; Bonferroni for the p-value).

    >>> round(float(strength(4, 5, 10, 95, statistic="fisher")), 2)  # p = 0.00117
    2.93
    """
    if statistic == "fisher":
        p = np.minimum(1.0, fisher_greater(a, n_cases, b, n_controls) * np.asarray(tried))
        return -np.log10(np.maximum(p, 1e-300))
    penalty = np.log(np.asarray(tried, dtype=np.float64))
    if statistic == "likelihood":
        score = mixture_llr(a, n_cases, b, n_controls, share=share)[0] - penalty
    else:
        score = log_bayes_factor(a, n_cases, b, n_controls, prior=prior, share=share) - penalty
    return score


def odds_ratio(a: int, n_cases: int, b: int, n_controls: int) -> float:
    """Odds of passing through the node, cases against controls, with 0.5 added to each cell
    (Haldane-Anscombe), so that an empty cell gives a finite number.

    >>> round(odds_ratio(4, 5, 10, 95), 1)
    24.4
    """
    return ((a + 0.5) * (n_controls - b + 0.5)) / ((n_cases - a + 0.5) * (b + 0.5))


# -- the ranking -------------------------------------------------------------------------------


class _Option:
    """A scored candidate before ranking: one node, or one machine window."""

    __slots__ = ("cases", "controls", "end", "key", "kind", "runs", "start", "target", "tried")

    def __init__(
        self,
        key: Hashable,
        kind: NodeKind,
        cases: frozenset[int],
        controls: frozenset[int],
        *,
        tried: int = 1,
        start: float | None = None,
        end: float | None = None,
        runs: tuple[str, ...] = (),
        target: str | None = None,
    ) -> None:
        self.key = key
        self.kind = kind
        self.cases = cases
        self.controls = controls
        self.tried = tried
        self.start = start
        self.end = end
        self.runs = runs
        self.target = target


def rank_sources(
    G: Any,
    cases: Mapping[CaseT, Collection[NodeT]],
    controls: Mapping[ControlT, Collection[NodeT]] | None = None,
    *,
    weights: Mapping[ControlT, int] | None = None,
    exposure: Mapping[Any, float] | None = None,
    kinds: Collection[NodeKind] | None = None,
    statistic: Statistic = "bayes",
    prior: tuple[float, float] = DEFAULT_PRIOR,
    resamples: int = 200,
    seed: int = 0,
    signals: Sequence[Mark] = (),
    signal_baseline: float = SIGNAL_BASELINE,
    parsimony: float = PARSIMONY,
) -> SourceRanking:
    """Rank the upstream nodes of ``cases`` as their likely common source.

    Parameters
    ----------
    G : networkx.DiGraph
        The traced upstream graph, edges pointing downstream. Nodes carry ``kind``. Every
        ``USED_IN`` edge of an equipment node in ``G`` (its whole run history, not only the
        runs the traces reached, so that windows are consecutive on the machine) carries
        ``at`` and ``until``; ``AFFECTS`` edges of change records carry ``at``.
    cases : mapping
        Case → the nodes its backward trace reached. At least one case.
    controls : mapping, optional
        Control → the nodes its backward trace reached. A control may stand for several units
        with the same upstream nodes (all units of one work order): see ``weights``.
    weights : mapping, optional
        Control → how many units it stands for (default 1 each).
    exposure : mapping, optional
        Case or control → its exposure: how much chance it had to draw a complaint (a unit
        delivered yesterday has had little), summed over the units a control stands for.
        Default: 1 per unit. The likelihood counts a node's share of the exposure instead of
        its share of the units; counts and Fisher's test stay in units.
    kinds : collection of NodeKind, optional
        Only rank these kinds (default :data:`CANDIDATE_KINDS`).
    statistic : {"bayes", "likelihood", "fisher"}, optional
        Rank by the Bayes factor (default), the mixture log-likelihood ratio at its best
        share, or Fisher's p-value.
    resamples : int, optional
        Bootstrap resamples of the cases for ``top_share`` (0: none).
    seed : int, optional
        Seed of the bootstrap.
    signals : sequence of Mark, optional
        Anomaly signals on nodes, read from records other than the cases (inspections,
        calibrations, process data, changes). A candidate's signals (for a machine window,
        those whose window overlaps it) combine by noisy-OR into ``p``; its prior odds are
        multiplied by ``max(1, p / signal_baseline)``. Not used by ``statistic="fisher"``.
    signal_baseline : float, optional
        The prior anomaly probability of a node without a signal.
    parsimony : float, optional
        A work order or product lot (with nothing but work orders and product lots equivalent
        to it) whose cases are all explained by a candidate upstream of it (one it is
        reached from) is folded into that one, listed among its ``carriers``, unless the data
        prefer it by at least this Bayes factor: the cases cannot say at which step a defect
        entered, and the upstream-most node is where it enters. With 1 a carrier folds only
        into an upstream candidate that scores at least as well.

    Returns
    -------
    SourceRanking
        Every candidate reached by at least one case, best first, with ``notes`` on how far
        the ranking can be trusted. Paths, evidence and next steps are left for the caller.

    Examples
    --------
    Two lots feed two work orders each; three of four complaints come from units of lot A,
    one (background) from lot B's; of 30 units without a complaint, 8 came from lot A:

    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> for lot in ("lot:A", "lot:B"):
    ...     G.add_node(lot, kind=NodeKind.MATERIAL_LOT)
    >>> G.add_node("supplier:S", kind=NodeKind.SUPPLIER)
    >>> up = {"A": {"lot:A", "supplier:S"}, "B": {"lot:B", "supplier:S"}}
    >>> cases = {"c1": up["A"], "c2": up["A"], "c3": up["A"], "c4": up["B"]}
    >>> controls = {"units of A": up["A"], "units of B": up["B"]}
    >>> ranking = rank_sources(G, cases, controls, weights={"units of A": 8, "units of B": 22})
    >>> [(c.rank, c.key, c.explained, c.controls) for c in ranking.candidates]
    [(1, 'lot:A', 3, 8), (2, 'supplier:S', 4, 30), (3, 'lot:B', 1, 22)]
    >>> top = ranking.candidates[0]
    >>> round(top.score, 2), top.common_link, round(top.p_value, 4)
    (0.75, False, 0.0889)
    >>> ranking.notes[0]
    '4 cases: weak evidence. Treat the ranking as leads to check, not a finding.'

    A machine's runs in order; complaints cluster on runs 2 and 3:

    >>> G.add_node("equipment:X", kind=NodeKind.EQUIPMENT)
    >>> for i in range(1, 5):
    ...     G.add_edge("equipment:X", f"wo:{i}", type=EdgeType.USED_IN, at=i * 100.0, until=i * 100.0 + 50)
    >>> cases = {"c1": {"equipment:X", "wo:2"}, "c2": {"equipment:X", "wo:3"}, "c3": {"equipment:X", "wo:2"}}
    >>> controls = {f"u{i}": {"equipment:X", f"wo:{i}"} for i in range(1, 5)}
    >>> best = rank_sources(G, cases, controls, weights=dict.fromkeys(controls, 10)).candidates[0]
    >>> best.key, best.runs, best.explained, best.controls, best.windows_tried
    ('equipment:X', ('wo:2', 'wo:3'), 3, 20, 3)
    """
    case_ids = list(cases)
    n_cases = len(case_ids)
    if n_cases == 0:
        raise ValueError("rank_sources needs at least one case")
    controls = controls or {}
    weights = weights or {}
    group_ids = list(controls)
    group_weight = np.array([int(weights.get(g, 1)) for g in group_ids], dtype=np.int64)
    n_controls = int(group_weight.sum())
    exposure = exposure or {}
    weighed = _Exposure(
        np.array([float(exposure.get(c, 1.0)) for c in case_ids]),
        np.array([float(exposure.get(g, w)) for g, w in zip(group_ids, group_weight.tolist(), strict=True)]),
    )
    wanted = CANDIDATE_KINDS if kinds is None else frozenset(kinds) & CANDIDATE_KINDS

    def kind_of(node: Hashable) -> NodeKind | None:
        if node not in G:
            return None
        kind = G.nodes[node].get("kind")
        return kind if isinstance(kind, NodeKind) else None

    # Which cases and controls pass through every node.
    case_sets: dict[Hashable, set[int]] = {}
    control_sets: dict[Hashable, set[int]] = {}
    for i, case in enumerate(case_ids):
        for node in cases[case]:
            case_sets.setdefault(node, set()).add(i)
    for j, group in enumerate(group_ids):
        for node in controls[group]:
            control_sets.setdefault(node, set()).add(j)

    options: list[_Option] = []
    reached: list[Hashable] = sorted(case_sets, key=str)
    for here in reached:
        kind = kind_of(here)
        if kind is None or kind not in wanted or kind in (NodeKind.EQUIPMENT, NodeKind.CHANGE_RECORD):
            continue
        options.append(_Option(here, kind, frozenset(case_sets[here]), frozenset(control_sets.get(here, ()))))

    unit_nodes: list[Collection[Hashable]] = [cases[c] for c in case_ids]
    unit_nodes += [controls[g] for g in group_ids]
    for here in reached:
        kind = kind_of(here)
        if kind is NodeKind.EQUIPMENT and kind in wanted:
            option = _best_window(G, here, unit_nodes, n_cases, group_weight, statistic, prior, weighed)
            if option is not None:
                options.append(option)
        elif kind is NodeKind.CHANGE_RECORD and kind in wanted:
            options.extend(_change_options(G, here, unit_nodes, n_cases))
    names = [str(c) for c in case_ids]
    if signal_baseline <= 0 or parsimony < 1:
        raise ValueError("signal_baseline must be positive and parsimony at least 1")
    return _rank(
        G,
        options,
        names,
        n_cases,
        group_weight,
        n_controls,
        statistic,
        prior,
        resamples,
        seed,
        _Priors(signals, signal_baseline),
        weighed,
        parsimony,
    )


def _runs_of(G: Any, equipment: Hashable) -> list[tuple[float, float | None, str]]:
    runs = []
    for _u, wo, data in G.out_edges(equipment, data=True):
        if data.get("type") is EdgeType.USED_IN:
            at = data.get("at")
            runs.append((-math.inf if at is None else float(at), data.get("until"), str(wo)))
    runs.sort(key=lambda r: (r[0], r[2]))
    return runs


def _run_hits(
    runs: Sequence[tuple[float, float | None, str]], unit_nodes: Sequence[Collection[Hashable]]
) -> npt.NDArray[np.int64]:
    """Prefix sums over the runs of how many of each unit's runs are among the first k."""
    index = {wo: i for i, (_at, _until, wo) in enumerate(runs)}
    hits = np.zeros((len(unit_nodes), len(runs)), dtype=np.int64)
    for u, nodes in enumerate(unit_nodes):
        for node in nodes:
            i = index.get(str(node))
            if i is not None:
                hits[u, i] = 1
    return np.concatenate([np.zeros((len(unit_nodes), 1), dtype=np.int64), np.cumsum(hits, axis=1)], axis=1)


def _best_window(
    G: Any,
    equipment: Hashable,
    unit_nodes: Sequence[Collection[Hashable]],
    n_cases: int,
    group_weight: npt.NDArray[np.int64],
    statistic: Statistic,
    prior: tuple[float, float],
    weighed: _Exposure,
) -> _Option | None:
    runs = _runs_of(G, equipment)
    if not runs:
        return None
    prefix = _run_hits(runs, unit_nodes)
    case_runs = np.flatnonzero((np.diff(prefix[:n_cases], axis=1) > 0).any(axis=0))
    if len(case_runs) == 0:
        return None
    lo, hi = np.triu_indices(len(case_runs))
    first, last = case_runs[lo], case_runs[hi]
    inside = (prefix[:, last + 1] - prefix[:, first]) > 0  # units x windows
    a = inside[:n_cases].sum(axis=0)
    b = group_weight @ inside[n_cases:] if len(group_weight) else np.zeros(len(first), dtype=np.int64)
    n_controls = int(group_weight.sum())
    share = (weighed.cases @ inside[:n_cases] + weighed.controls @ inside[n_cases:]) / weighed.total
    score = strength(a, n_cases, b, n_controls, statistic=statistic, prior=prior, share=share)
    order = np.lexsort((first, last - first, b, -a, -np.round(score, 9)))
    best = int(order[0])
    i, j = int(first[best]), int(last[best])
    members = inside[:, best]
    until = runs[j][1]
    return _Option(
        equipment,
        NodeKind.EQUIPMENT,
        frozenset(int(k) for k in np.flatnonzero(members[:n_cases])),
        frozenset(int(k) for k in np.flatnonzero(members[n_cases:])),
        tried=len(first),
        start=None if math.isinf(runs[i][0]) else runs[i][0],
        end=None if until is None else float(until),
        runs=tuple(wo for _at, _until, wo in runs[i : j + 1]),
    )


def _change_options(
    G: Any, change: Hashable, unit_nodes: Sequence[Collection[Hashable]], n_cases: int
) -> list[_Option]:
    """A change on a machine: the units made on it from the change on. On anything else:
    the units that pass through what it changed."""
    options = []
    for _c, target, data in G.out_edges(change, data=True):
        if data.get("type") is not EdgeType.AFFECTS:
            continue
        at = data.get("at")
        runs = [r for r in _runs_of(G, target) if at is None or r[1] is None or r[1] > at]
        start: float | None
        if runs:
            prefix = _run_hits(runs, unit_nodes)
            members = prefix[:, -1] > 0
            start = runs[0][0] if at is None else float(at)
        else:
            members = np.array([target in nodes for nodes in unit_nodes], dtype=bool)
            start = None if at is None else float(at)
        if not members[:n_cases].any():
            continue
        options.append(
            _Option(
                change,
                NodeKind.CHANGE_RECORD,
                frozenset(int(k) for k in np.flatnonzero(members[:n_cases])),
                frozenset(int(k) for k in np.flatnonzero(members[n_cases:])),
                start=None if start is None or math.isinf(start) else start,
                runs=tuple(wo for _at, _until, wo in runs),
                target=str(target),
            )
        )
    return options


class _Exposure:
    """Exposure of every case and control (group), and a node's share of the whole."""

    def __init__(self, cases: npt.NDArray[np.float64], controls: npt.NDArray[np.float64]) -> None:
        self.cases = cases
        self.controls = controls
        self.total = max(float(cases.sum() + controls.sum()), 1e-12)

    def share(self, cases: frozenset[int], controls: frozenset[int]) -> float:
        inside = self.cases[list(cases)].sum() if cases else 0.0
        inside += self.controls[list(controls)].sum() if controls else 0.0
        return float(inside) / self.total


class _Priors:
    """Prior log odds of candidates from the anomaly signals on them."""

    def __init__(self, signals: Sequence[Mark], baseline: float) -> None:
        self.baseline = baseline
        self.by_node: dict[str, list[Mark]] = {}
        for mark in signals:
            self.by_node.setdefault(mark.node, []).append(mark)

    def of(self, options: Sequence[_Option]) -> tuple[float, tuple[str, ...]]:
        """Of a class of equivalent options: any member's signals count for all of them."""
        marks: dict[tuple[str, str, float | None], Mark] = {}
        for option in options:
            targets = [str(option.key)] + ([option.target] if option.target else [])
            lo = -math.inf if option.start is None else option.start
            hi = math.inf if option.end is None else option.end
            windowed = option.kind in (NodeKind.EQUIPMENT, NodeKind.CHANGE_RECORD)
            for target in targets:
                for mark in self.by_node.get(target, ()):
                    start = -math.inf if mark.start is None else mark.start
                    end = math.inf if mark.end is None else mark.end
                    if windowed and (end < lo or start > hi):
                        continue
                    marks[(mark.node, mark.label, mark.start)] = mark
        if not marks:
            return 0.0, ()
        p = 1.0 - math.prod(1.0 - m.probability for m in marks.values())
        return max(0.0, math.log(max(p, 1e-12) / self.baseline)), tuple(sorted(m.label for m in marks.values()))


def _downstream_of(G: Any, option: _Option) -> set[Hashable]:
    """What the option reaches downstream in ``G`` (a machine window: from its runs)."""
    starts: list[Hashable] = list(option.runs) if option.runs else [option.key]
    if option.kind is NodeKind.CHANGE_RECORD and not option.runs and option.target is not None:
        starts = [option.target]
    out: set[Hashable] = set()
    for start in starts:
        if start in G:
            out.add(start)
            out |= nx.descendants(G, start)
    out.discard(option.key)
    return out


def _fold(
    G: Any, heads: list[_Option], score: npt.NDArray[np.float64], members: list[list[_Option]], parsimony: float
) -> list[int | None]:
    """For each head, the head it is folded into (None: it stays): the best-scoring candidate
    upstream of it that explains every case it does and that the data do not disfavour by the
    ``parsimony`` Bayes factor; chains resolve to their upstream-most head."""
    into: list[int | None] = [None] * len(heads)
    margin = math.log(parsimony)
    below: dict[int, set[Hashable]] = {}
    for k, head in enumerate(heads):
        best: int | None = None
        if not all(m.kind in CARRIER_KINDS for m in members[k]):
            continue  # a lot, machine window or change equivalent to it: not a mere carrier
        for j, upper in enumerate(heads):
            if j == k or not head.cases <= upper.cases or score[j] < score[k] - margin:
                continue
            if upper.cases == head.cases and upper.controls == head.controls:
                continue
            if best is not None and score[j] <= score[best]:
                continue
            if j not in below:
                below[j] = _downstream_of(G, upper)
            if any(m.key in below[j] for m in members[k]):
                best = j
        into[k] = best
    # Resolve chains (acyclic: a node is not downstream of its own descendants in a DAG; guard anyway).
    resolved: list[int | None] = []
    for k in range(len(heads)):
        seen = {k}
        lead = into[k]
        while lead is not None:
            above = into[lead]
            if above is None or above in seen:
                break
            seen.add(lead)
            lead = above
        resolved.append(lead)
    return resolved


def _rank(
    G: Any,
    options: list[_Option],
    case_ids: Sequence[Hashable],
    n_cases: int,
    group_weight: npt.NDArray[np.int64],
    n_controls: int,
    statistic: Statistic,
    prior: tuple[float, float],
    resamples: int,
    seed: int,
    priors: _Priors,
    exposure: _Exposure,
    parsimony: float,
) -> SourceRanking:
    # Equivalent options (same cases, same controls) become one candidate.
    classes: dict[tuple[frozenset[int], frozenset[int]], list[_Option]] = {}
    for option in options:
        classes.setdefault((option.cases, option.controls), []).append(option)
    members = [
        sorted(group, key=lambda o: (KIND_PREFERENCE[o.kind], o.tried, str(o.key))) for group in classes.values()
    ]
    if not members:
        return SourceRanking(
            cases=n_cases,
            controls=n_controls,
            statistic=statistic,
            candidates=(),
            tested=0,
            notes=("No candidate: the cases' backward traces reach no supplier, lot, work order or equipment.",),
        )
    heads = [group[0] for group in members]
    for group in members:
        # A work order equivalent to a one-run machine window: that run is its window too.
        head = group[0]
        windowed = next((o for o in group[1:] if o.start is not None and head.start is None), None)
        if windowed is not None:
            head.start, head.end = windowed.start, windowed.end
            head.runs = head.runs or windowed.runs
    tested = len(heads)
    a_all = np.array([len(h.cases) for h in heads], dtype=np.int64)
    b_all = np.array([int(group_weight[list(h.controls)].sum()) if h.controls else 0 for h in heads], dtype=np.int64)
    tried_all = np.array([h.tried for h in heads], dtype=np.int64)
    share_all = np.array([exposure.share(h.cases, h.controls) for h in heads])
    bayes_all = log_bayes_factor(a_all, n_cases, b_all, n_controls, prior=prior, share=share_all)
    bayes_all = bayes_all - np.log(tried_all.astype(np.float64))
    # Parsimony: downstream carriers the data do not clearly prefer fold into an upstream one.
    weighed_all = [priors.of(group) for group in members]
    log_prior_all = np.array([w[0] for w in weighed_all])
    folded = _fold(G, heads, bayes_all + log_prior_all, members, parsimony)
    kept = [k for k in range(tested) if folded[k] is None]
    carriers: dict[int, list[_Option]] = {k: [] for k in kept}
    for k, lead in enumerate(folded):
        if lead is not None:
            carriers[lead] += members[k]
    weighed = [weighed_all[k] for k in kept]
    carried = [tuple(sorted(str(o.key) for o in carriers[k])) for k in kept]
    heads = [heads[k] for k in kept]
    members = [members[k] for k in kept]
    log_prior = np.array([w[0] for w in weighed])
    a, b, tried, share = a_all[kept], b_all[kept], tried_all[kept], share_all[kept]
    if statistic == "fisher":
        log_prior = np.zeros(len(heads))
    penalty = np.log(tried.astype(np.float64))
    p = fisher_greater(a, n_cases, b, n_controls)
    p_adj = np.minimum(1.0, p * tried)
    llr, pi = mixture_llr(a, n_cases, b, n_controls, share=share)
    bayes = bayes_all[kept]
    preference = np.array([KIND_PREFERENCE[h.kind] for h in heads])
    names = np.array([str(h.key) for h in heads])
    name_rank = np.argsort(np.argsort(names, kind="stable"), kind="stable")
    if n_controls:
        primary = -np.round(
            strength(a, n_cases, b, n_controls, statistic=statistic, tried=tried, prior=prior, share=share) + log_prior,
            9,
        )
    else:  # nothing to compare with: the cases explained alone order the candidates
        primary = -np.round(log_prior, 9)
    order = np.lexsort((name_rank, preference, b, -a, primary))

    top_share = _bootstrap(
        heads, n_cases, b, n_controls, tried, log_prior, share, preference, name_rank, statistic, prior, resamples, seed
    )

    candidates = []
    rank = 0
    previous: tuple[float, int, int] | None = None
    for position, k in enumerate(order.tolist(), 1):
        tie_key = (float(primary[k]), int(a[k]), int(b[k]))
        if tie_key != previous:
            rank = position
            previous = tie_key
        head = heads[k]
        candidates.append(
            Candidate(
                rank=rank,
                key=str(head.key),
                kind=head.kind,
                group=GROUPS[head.kind],
                window_start=None if head.start is None else from_epoch(head.start),
                window_end=None if head.end is None else from_epoch(head.end),
                runs=head.runs,
                target=head.target,
                cases=tuple(str(case_ids[i]) for i in sorted(head.cases)),
                explained=int(a[k]),
                score=float(a[k]) / n_cases,
                common_link=bool(a[k] == n_cases),
                controls=int(b[k]),
                control_share=float(b[k]) / n_controls if n_controls else 0.0,
                exposure_share=round(float(share[k]), 9),
                log_bayes_factor=round(float(bayes[k]), 6),
                log_likelihood_ratio=round(float(llr[k] - penalty[k]), 6),
                attributable=round(float(pi[k]), 6),
                odds_ratio=round(odds_ratio(int(a[k]), n_cases, int(b[k]), n_controls), 6),
                p_value=float(p[k]),
                p_adjusted=float(p_adj[k]),
                windows_tried=int(tried[k]),
                top_share=None if top_share is None else round(float(top_share[k]), 3),
                equivalent=tuple(str(o.key) for o in members[k][1:]),
                carriers=carried[k],
                log_prior_odds=round(float(log_prior[k]), 6),
                signals=weighed[k][1] if statistic != "fisher" else (),
            )
        )
    notes = _notes(candidates, n_cases, n_controls, tested, statistic)
    return SourceRanking(
        cases=n_cases,
        controls=n_controls,
        statistic=statistic,
        candidates=tuple(candidates),
        tested=tested,
        notes=tuple(notes),
    )


def _bootstrap(
    heads: list[_Option],
    n_cases: int,
    b: npt.NDArray[np.int64],
    n_controls: int,
    tried: npt.NDArray[np.int64],
    log_prior: npt.NDArray[np.float64],
    share: npt.NDArray[np.float64],
    preference: npt.NDArray[np.int64],
    name_rank: npt.NDArray[np.int64],
    statistic: Statistic,
    prior: tuple[float, float],
    resamples: int,
    seed: int,
) -> npt.NDArray[np.float64] | None:
    """How often each candidate ranks first when the cases are resampled with replacement
    (windows stay as chosen on the data, so a window's share is a little optimistic)."""
    if resamples <= 0 or n_cases < 2 or n_controls == 0:
        return None
    membership = np.zeros((len(heads), n_cases), dtype=np.int64)
    for k, head in enumerate(heads):
        membership[k, list(head.cases)] = 1
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n_cases, np.full(n_cases, 1.0 / n_cases), size=resamples)  # resamples x cases
    a = draws @ membership.T  # resamples x candidates
    wins = np.zeros(len(heads))
    for row in range(resamples):
        score = strength(a[row], n_cases, b, n_controls, statistic=statistic, tried=tried, prior=prior, share=share)
        primary = -np.round(score + log_prior, 9)
        order = np.lexsort((name_rank, preference, b, -a[row], primary))
        wins[order[0]] += 1
    return wins / resamples


def _fmt_p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


def _notes(candidates: list[Candidate], n_cases: int, n_controls: int, tested: int, statistic: Statistic) -> list[str]:
    """The ranking's uncertainty, plainly."""
    notes = []
    if n_cases < WEAK_CASES:
        notes.append(
            f"{n_cases} case{'s' if n_cases != 1 else ''}: weak evidence. "
            "Treat the ranking as leads to check, not a finding."
        )
    elif n_cases < 10:
        notes.append(f"{n_cases} cases: limited evidence; more cases would sharpen the ranking.")
    if n_controls == 0:
        notes.append(
            "No controls: candidates are ranked by how many cases they explain; how specific each is stays unknown."
        )
    if not candidates:
        return notes
    top = candidates[0]
    tied = [c for c in candidates if c.rank == top.rank]
    if len(tied) > 1:
        notes.append(
            f"{len(tied)} candidates are tied at the top ({', '.join(c.key for c in tied[:5])}"
            + (", …" if len(tied) > 5 else "")
            + "): the counts cannot order them."
        )
    if top.equivalent:
        notes.append(
            f"{top.key} cannot be told apart from {', '.join(top.equivalent[:5])}"
            + (", …" if len(top.equivalent) > 5 else "")
            + ": they explain the same cases and pass the same controls."
        )
    if n_controls:
        bonferroni = min(1.0, top.p_adjusted * tested)
        if bonferroni > ALPHA:
            notes.append(
                f"Not significant: the top candidate's p = {_fmt_p(top.p_adjusted)}, "
                f"{_fmt_p(bonferroni)} once the {tested} candidates tested are accounted for (Bonferroni)."
            )
        else:
            notes.append(
                f"{top.key} is significant: p = {_fmt_p(top.p_adjusted)}, "
                f"{_fmt_p(bonferroni)} after Bonferroni over the {tested} candidates tested."
            )
    if len(candidates) > 1 and len(tied) == 1:
        runner = candidates[1]
        if statistic != "fisher":
            if statistic == "bayes":
                gap = top.log_bayes_factor - runner.log_bayes_factor
            else:
                gap = top.log_likelihood_ratio - runner.log_likelihood_ratio
            if gap < math.log(10.0):
                notes.append(
                    f"Close call: {top.key} is only {math.exp(gap):.1f} times as likely a source as {runner.key}."
                )
        elif runner.p_adjusted < 10 * top.p_adjusted:
            notes.append(f"Close call: {runner.key} has a p-value within a factor of 10 of {top.key}'s.")
    if top.top_share is not None and top.top_share < 0.8:
        notes.append(
            f"{top.key} ranks first in {top.top_share:.0%} of bootstrap resamples of the cases: "
            "the order at the top could change with a few more or fewer cases."
        )
    if not top.common_link:
        best = max(c.explained for c in candidates)
        if best < n_cases:
            notes.append(
                f"No candidate explains all {n_cases} cases (at most {best}): some complaints may be "
                "background, unrelated to the source, or have another cause."
            )
    return notes
