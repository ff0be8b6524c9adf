"""The composition root's product: one object with every use case, built once per process.

Transports (CLI, REST, GraphQL) call these methods; only services talk to the store.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from graph.factory import open_store
from graph.port import GraphStore, SearchHit, Step
from loaders import parse_path
from loaders.base import ParseResult
from risk.alerts import load_config as load_alert_rules
from risk.recall import DEFAULT_THRESHOLD, RecallScope
from risk.signals.base import Signal
from risk.signals.charts import ControlChart, RuleSystem
from risk.signals.supplier import SupplierScore
from schema.alerts import Alert, AlertGrade, AlertState, Task, TaskState
from schema.audit import AuditAction, AuditEntry
from schema.errors import InvalidInputError, TraceGraphError
from schema.identifiers import canonical_key
from schema.kinds import EdgeType, NodeKind
from schema.model import NodeView, StoreStats, TimeWindow, TraceDirection, TraceQuery, TraceResult, iso
from services import alerts as alert_service
from services import governance, ingest, recall
from services import nmpa as nmpa_service
from services import signals as signal_service
from services import sources as source_service
from services import spc as spc_service
from services.audit import AuditTrail, default_actor, record_load
from services.settings import Settings


@dataclass
class Services:
    store: GraphStore
    settings: Settings
    #: The audit trail, in its own file (services.audit); from the settings when not given.
    audit: AuditTrail | None = None
    #: Who acts through this object: the CLI's --actor or OS account; the API sets it per request.
    actor: str = field(default_factory=default_actor)

    @classmethod
    def build(cls, settings: Settings, *, migrate: bool = False, actor: str | None = None) -> Services:
        store = open_store(settings.store, busy_timeout=settings.busy_timeout)
        if migrate:
            store.migrate()
        return cls(
            store=store, settings=settings, audit=AuditTrail.for_settings(settings), actor=actor or default_actor()
        )

    def close(self) -> None:
        self.store.close()
        if self.audit is not None:
            self.audit.close()

    def migrate(self) -> int:
        """Create or upgrade the store's schema; idempotent."""
        return self.store.migrate()

    # -- audit trail -----------------------------------------------------------------
    def as_actor(self, actor: str) -> Services:
        """The same services acting for ``actor`` (an API request's user or key); they share the
        store and audit trail, so only the original is closed."""
        return replace(self, actor=actor)

    def audit_trail(self) -> AuditTrail:
        if self.audit is None:
            self.audit = AuditTrail.for_settings(self.settings)
        return self.audit

    def record(
        self,
        action: AuditAction,
        subject: str,
        *,
        old: object = None,
        new: object = None,
        reason: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> AuditEntry:
        """Append a change to the audit trail as done by ``self.actor``: alert and task
        transitions, signatures, reports, configuration, users and keys. Loads record themselves."""
        return self.audit_trail().record(
            action, actor=self.actor, subject=subject, old=old, new=new, reason=reason, details=details
        )

    # -- questions -------------------------------------------------------------------
    def trace(self, query: TraceQuery, *, time_budget: float | None = None) -> TraceResult:
        """A trace within the server's caps; ``time_budget`` seconds make it partial, not slow."""
        deadline = None if time_budget is None else time.monotonic() + time_budget
        return self.store.trace(query, max_states=self.settings.trace_max_states, deadline=deadline)

    def node(self, key: str, *, as_of: datetime | None = None, edge_limit: int = 200) -> NodeView:
        return self.store.node(canonical_key(key), as_of=as_of, edge_limit=edge_limit)

    def search(self, text: str, *, kinds: Iterable[NodeKind] | None = None, limit: int = 20) -> list[SearchHit]:
        """Find by partial key, lot, serial or name; a whole identifier in any form finds its node."""
        hits: list[SearchHit] = []
        try:
            key = canonical_key(text)
        except TraceGraphError:  # not an identifier: plain text search only
            key = None
        if key is not None:
            found = self.store.kinds([key])
            if key in found and (not kinds or found[key] in set(kinds)):
                hits.append(SearchHit(key, found[key], key))
        for hit in self.store.search(text, kinds=kinds, limit=limit):
            if hit.key not in {h.key for h in hits}:
                hits.append(hit)
        return hits[:limit]

    def stats(self) -> StoreStats:
        return self.store.stats()

    # -- changes ---------------------------------------------------------------------
    def load_paths(
        self,
        paths: Sequence[Path],
        *,
        fmt: str = "auto",
        partial: bool = False,
        reject_report: Path | None = None,
        on_phase: Callable[[str], None] | None = None,
        mapping: Path | None = None,
        epcis_any_order: bool = False,
    ) -> ingest.LoadReport:
        report = ingest.load_paths(
            self.store,
            paths,
            fmt=fmt,
            partial=partial,
            reject_report=reject_report,
            on_phase=on_phase,
            mapping=mapping,
            epcis_any_order=epcis_any_order,
        )
        options = {
            "format": fmt,
            "partial": partial,
            "mapping": str(mapping) if mapping else None,
            "epcis_any_order": epcis_any_order,
        }
        record_load(self.audit_trail(), report, actor=self.actor, sources=[str(p) for p in paths], options=options)
        return report

    def load_parsed(
        self, parsed: ParseResult, *, source: str, content_hash: str | None, partial: bool = False
    ) -> ingest.LoadReport:
        report = ingest.load_parsed(self.store, parsed, source=source, content_hash=content_hash, partial=partial)
        record_load(self.audit_trail(), report, actor=self.actor, sources=[source], options={"partial": partial})
        return report

    # -- for the HTTP API ------------------------------------------------------------
    def neighbours(
        self, keys: Sequence[str], direction: TraceDirection, *, as_of: datetime | None = None
    ) -> Mapping[str, Sequence[Step]]:
        """One hop from each of ``keys`` (canonical keys), all in one store query: what the
        API's DataLoaders batch a page of nodes' neighbour lookups into."""
        return self.store.expand(keys, direction, as_of=as_of)

    def load_document(self, data: bytes, *, name: str, fmt: str = "auto", partial: bool = False) -> ingest.LoadReport:
        """Load one uploaded document as one batch, strict unless ``partial`` (like ``load``).

        ``name`` is its file name: it picks the format under ``auto``, says which file of the CSV
        format a CSV is, and becomes the provenance source of every fact read from it.
        """
        file_name = Path(name).name
        if file_name in {"", ".", ".."}:
            raise InvalidInputError(f"'{name}' is not a file name; name the document (e.g. packing.csv)")
        with tempfile.TemporaryDirectory(prefix="tracegraph-upload-") as tmp:
            path = Path(tmp) / file_name
            path.write_bytes(data)
            parsed = parse_path(path, fmt=fmt)
            content_hash = ingest.inputs_hash([path], partial=partial)
        return self.load_parsed(parsed, source=name, content_hash=content_hash, partial=partial)

    def events(
        self, *, naming: Sequence[str] | None = None, limit: int = 10_000, edge_limit: int = 1_000
    ) -> list[NodeView]:
        """Event nodes (EPCIS and other source events), each with the RECORDED_BY relationships
        that say what it names: the events naming any of ``naming`` (canonical keys), else all.
        At most ``limit`` are read; more may exist when that many come back.

        Listing all events is a stopgap until the port can list the nodes of a kind
        (``GraphStore.nodes_of_kind``): it finds them through ``search``.
        """
        if naming is not None:
            hops = self.store.expand(list(naming), TraceDirection.FORWARD)
            keys = list(
                dict.fromkeys(s.neighbour for steps in hops.values() for s in steps if s.type is EdgeType.RECORDED_BY)
            )
        else:
            keys = [hit.key for hit in self.store.search("event:", kinds=[NodeKind.EVENT], limit=limit)]
        return [self.store.node(key, edge_limit=edge_limit) for key in keys[:limit]]

    # -- early warning ---------------------------------------------------------------
    def recall_scope(
        self,
        *,
        starts: Sequence[str] = (),
        signals: Sequence[str] = (),
        window: TimeWindow | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        probability: float = 1.0,
        carryover_runs: int = 0,
        as_of: datetime | None = None,
        compare: bool = False,
    ) -> RecallScope:
        """Which devices to recall or quarantine: propagated risk from ``starts`` (anomalous
        with ``probability`` over ``window``) and from the signals ``signals`` (ids), the
        devices at or above ``threshold``, grouped, with the sensitivity table and containment.
        ``compare`` adds how many devices plain and time-respecting traces reach."""
        seeds = recall.seeds_from_keys(starts, window=window, probability=probability, carryover_runs=carryover_runs)
        found = signal_service.find(self.store, signals, as_of=as_of) if signals else []
        seeds += [seed for s in found for seed in s.seeds()]
        return recall.scope(
            self.store,
            seeds,
            threshold=threshold,
            as_of=as_of,
            compare=compare,
            signals=[s.id for s in found],
            window=window,
            max_states=self.settings.trace_max_states,
        )

    # -- data governance -------------------------------------------------------------
    def quality(self, *, source: str | None = None) -> governance.QualityReport:
        """Data-quality findings and a score per source (services.governance); with ``source``
        (a source name or source system) only that source's.

        Reads every fact version through ``export_batches``: fine for a plant's worth of
        data; at scale the port needs a method streaming current facts by kind.
        """
        return governance.assess(self.store.export_batches(), source=source)

    def signals(self, *, as_of: datetime | None = None) -> list[Signal]:
        """Every anomaly signal the records raise (as of ``as_of``), most severe first."""
        return signal_service.detect(self.store, as_of=as_of)

    def supplier_scorecard(self, *, as_of: datetime | None = None) -> list[SupplierScore]:
        """Supplier performance: lots, incoming rejects, late and short deliveries, trend, grade."""
        return signal_service.scorecard(self.store, as_of=as_of)

    def control_charts(
        self,
        *,
        equipment: str | None = None,
        parameter: str | None = None,
        rules: RuleSystem = RuleSystem.NELSON,
        as_of: datetime | None = None,
    ) -> list[ControlChart]:
        """Individuals charts per equipment and parameter, with limits and the run rules broken."""
        return spc_service.charts(self.store, equipment=equipment, parameter=parameter, rules=rules, as_of=as_of)

    def run_alerts(self, *, rules: Path | None = None) -> alert_service.AlertRun:
        """Evaluate the alert rules (``rules`` or the packaged default) on the current signals:
        open, escalate, hold stock, send webhooks. What the schedule runs (``alerts run``)."""
        run = alert_service.evaluate(self.store, load_alert_rules(rules), actor=self.actor)
        for key in run.opened + run.escalated:
            self.record(AuditAction.ALERT_TRANSITION, key, new="escalated" if key in run.escalated else "open")
        return run

    def alerts(
        self, *, state: AlertState | None = None, grade: AlertGrade | None = None, node: str | None = None
    ) -> list[Alert]:
        """Alerts, the open and most urgent first; ``node`` in any accepted key form."""
        about = canonical_key(node) if node is not None else None
        return alert_service.alerts(self.store, state=state, grade=grade, node=about)

    def alert(self, key: str) -> Alert:
        return alert_service.alert(self.store, key)

    def tasks(
        self, *, state: TaskState | None = None, assignee: str | None = None, concerns: str | None = None
    ) -> list[Task]:
        """Tasks, the open and soonest due first; ``concerns`` in any accepted key form."""
        about = canonical_key(concerns) if concerns is not None else None
        return alert_service.tasks(self.store, state=state, assignee=assignee, concerns=about)

    def task(self, key: str) -> Task:
        return alert_service.task(self.store, key)

    def move_task(
        self,
        key: str,
        state: TaskState | str,
        fields: Mapping[str, str] | None = None,
        *,
        reason: str | None = None,
        rules: Path | None = None,
    ) -> Task:
        """Move a task along open → investigating → action → verification → closed with the
        fields each step needs; closing closes its alert and releases the stock it held."""
        before = alert_service.task(self.store, key)
        after = alert_service.move_task(
            self.store, key, state, fields, actor=self.actor, reason=reason, config=load_alert_rules(rules)
        )
        self.record(
            AuditAction.TASK_TRANSITION,
            key,
            old=before.state.value,
            new=after.state.value,
            reason=reason or (after.history[-1].reason if after.history else None),
            details=dict(fields or {}),
        )
        if after.state is TaskState.CLOSED:
            self.record(AuditAction.ALERT_TRANSITION, after.alert, old="open", new="closed", reason=reason)
        return after

    # -- NMPA duties ------------------------------------------------------------------
    def nmpa_dossier(
        self,
        scope: RecallScope,
        facts: nmpa_service.NmpaFacts,
        recall_class: nmpa_service.RecallClass,
        *,
        decided_at: datetime | None = None,
    ) -> nmpa_service.RecallDossier:
        """What the NMPA recall documents say about ``scope`` (services.nmpa)."""
        return nmpa_service.dossier(self.store, scope, facts, recall_class, decided_at=decided_at)

    def track_nmpa_recall(
        self, start: str, recall_class: nmpa_service.RecallClass, clocks: Sequence[nmpa_service.Clock]
    ) -> tuple[str, list[str]]:
        """Record an NMPA recall of ``start`` as an alert whose tasks are its clocks; the
        alert's opening goes to the audit trail (once: recording it again changes nothing)."""
        key = canonical_key(start)
        recorded = nmpa_service.recall_recorded(self.store, key)
        alert, tasks = nmpa_service.track_recall(self.store, key, recall_class, clocks, actor=self.actor)
        if not recorded:
            self.record(
                AuditAction.ALERT_TRANSITION,
                alert,
                new="open",
                details={
                    "concerns": key,
                    "recall_class": recall_class.value,
                    "tasks": {task: iso(clock.due) for task, clock in zip(tasks, clocks, strict=True)},
                },
            )
        return alert, tasks

    def distribution_records(
        self, facts: nmpa_service.NmpaFacts, *, shipments: Iterable[str] | None = None
    ) -> list[nmpa_service.DistributionRecord]:
        """Distribution records of the graph's shipments, with their retention (services.nmpa)."""
        return nmpa_service.distribution_records(self.store, facts, shipments=shipments)

    def nmpa_adverse_events(self, *, run: bool = False, rules: Path | None = None) -> nmpa_service.AdverseEvents:
        """The NMPA adverse-event reporting clocks the complaints start, as signals; with ``run``
        the alert rules (``nmpa-ae-*``) turn them into alerts and tasks due when the report is due."""
        signals = nmpa_service.adverse_event_signals(self.store)
        if not run:
            return nmpa_service.AdverseEvents(signals=signals)
        result = alert_service.evaluate(self.store, load_alert_rules(rules), actor=self.actor, signals=signals)
        for key in result.opened + result.escalated:
            self.record(AuditAction.ALERT_TRANSITION, key, new="escalated" if key in result.escalated else "open")
        return nmpa_service.AdverseEvents(signals=signals, run=result)

    # -- investigation ---------------------------------------------------------------
    def likely_sources(
        self,
        cases: Sequence[str],
        *,
        controls: Sequence[str] | None = None,
        kinds: Iterable[NodeKind] | None = None,
        margin_days: float = source_service.DEFAULT_MARGIN_DAYS,
        as_of: datetime | None = None,
        limit: int = 20,
        evidence: int = 10,
        statistic: source_service.Statistic = "bayes",
        parsimony: float = source_service.PARSIMONY,
        use_signals: bool = True,
        maturity_days: float = source_service.DEFAULT_MATURITY_DAYS,
    ) -> source_service.LikelySources:
        """The upstream nodes common to ``cases`` (complaints, or complained or failed units),
        ranked as their likely source against ``controls`` (units; None: the units built in the
        same period, ``margin_days`` either side, without a complaint). Each candidate comes with
        the cases it explains, the controls it shares, its Bayes factor and Fisher p-value, its
        best window (equipment), explaining paths, evidence (the first ``evidence`` candidates)
        and the trace and recall to run next; ``notes`` say how far the ranking can be trusted.
        At most ``limit`` candidates are listed, and the best of every kind. ``parsimony``,
        ``use_signals`` and ``maturity_days``: see docs/reference/sources.md."""
        return source_service.likely_sources(
            self,
            cases,
            controls=controls,
            kinds=None if kinds is None else frozenset(kinds),
            margin_days=margin_days,
            as_of=as_of,
            limit=limit,
            evidence=evidence,
            statistic=statistic,
            parsimony=parsimony,
            use_signals=use_signals,
            maturity_days=maturity_days,
        )
