// A node's page: the open alerts about it (and their tasks), what the sources say about it
// (facts), what proves it (evidence and the provenance of every version: source system, file,
// line, record hash), and what it is related to, each relationship with its own records.
import { api, currentSession } from "../api.js";
import { copyButton, fmtTime, h, notice } from "../dom.js";
import { t } from "../i18n.js";
import { badge, shortLabel } from "../kinds.js";
import { href } from "../router.js";
import { countdown, tick } from "./alerts.js";
import { remember, setCurrentKey } from "../state.js";

export default {
  id: "node",
  match: (parts) => parts[0] === "node" && parts.length > 1,
  render,
};

const EDGES_SHOWN = 25; // per relationship type, before "show all"
const KEYLIKE = /^(?:[a-z][a-z_]*:[^\s/]|0[01]\/\d|41[47]\/\d|hibc\/|ma\/)/; // prop values that are node keys

async function render(main, route, { signal }) {
  const key = route.parts.slice(1).join("/");
  let view;
  try {
    view = await api.node(key, { signal });
  } catch (error) {
    if (error.status === 404 || error.status === 422) {
      main.append(h("h1", null, t("node.notFound")), notice("error", error.message));
      return;
    }
    throw error;
  }
  setCurrentKey(view.key);
  const title = shortLabel(view.key, view.props);
  remember({ key: view.key, kind: view.kind, label: title });
  document.title = `${title} · TraceGraph`;

  main.append(
    h(
      "header",
      { class: "page-head" },
      h("div", { class: "page-title" }, badge(view.kind), h("h1", null, title)),
      h(
        "p",
        { class: "key-line" },
        h("code", { class: "key", "data-testid": "node-key" }, view.key),
        copyButton(view.key, t("node.copyKey")),
      ),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "btn", href: href(["graph", "forward", view.key]) }, t("node.forward")),
        h("a", { class: "btn", href: href(["graph", "backward", view.key]) }, t("node.backward")),
        h("a", { class: "btn", href: href(["recall", view.key]) }, t("node.recall")),
      ),
    ),
  );

  // Alerts and tasks are the quality engineer's (permission "alerts"): other roles see none.
  const principal = (await currentSession({ signal }))?.principal;
  const alertsBox = h(
    "div",
    { "data-testid": "node-alerts", "aria-busy": "true" },
    h("p", { class: "muted" }, t("node.loadingAlerts")),
  );
  if (principal?.permissions?.includes("alerts")) main.append(section("alerts", alertsBox, "open-alerts"));

  const grid = h("div", { class: "node-grid" });
  main.append(grid);
  grid.append(section("facts", factsTable(view.props)));
  const evidenceBox = h("div", null, h("p", { class: "muted" }, t("node.loadingEvidence")));
  grid.append(section("evidence", evidenceBox));
  main.append(section("provenance", provenanceTable(view.versions), "provenance"));
  main.append(section("relationships", relationships(view)));

  await Promise.all([
    showEvidence(evidenceBox, view.key, signal),
    alertsBox.isConnected ? showAlerts(alertsBox, view.key, signal) : null,
  ]);
}

async function showEvidence(box, key, signal) {
  try {
    const evidence = await api.evidence(key, { signal });
    box.replaceChildren(evidenceList(evidence));
  } catch (error) {
    if (error.name === "AbortError") throw error;
    box.replaceChildren(notice("error", t("node.evidenceError", { message: error.message })));
  }
}

/** The open alerts about `key`, most urgent first, each with its tasks' states and due times. */
async function showAlerts(box, key, signal) {
  let alerts;
  let tasks;
  try {
    [alerts, tasks] = await Promise.all([
      api.alerts({ state: "open", node: key }, { signal }),
      api.tasks({ concerns: key }, { signal }),
    ]);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    box.replaceChildren(notice("error", t("node.alertsError", { message: error.message })));
    box.setAttribute("aria-busy", "false");
    return;
  }
  const mine = alerts.sort((a, b) => due(a) - due(b));
  const byKey = new Map(tasks.map((task) => [task.key, task]));
  box.replaceChildren(
    mine.length
      ? alertList(mine, byKey)
      : h("p", { class: "muted", "data-testid": "no-alerts" }, t("node.noOpenAlerts")),
    h("p", null, h("a", { href: href("alerts") }, t("node.alertsBoard"))),
  );
  box.setAttribute("aria-busy", "false");
  tick();
}

function due(item) {
  return item.due_at ? Date.parse(item.due_at) : Infinity;
}

function alertList(alerts, tasks) {
  return h(
    "ul",
    { class: "plain node-alerts" },
    alerts.map((alert) =>
      h(
        "li",
        { "data-alert": alert.key, "data-grade": alert.grade },
        h("span", { class: `grade-chip grade-${alert.grade}` }, t(`grade.${alert.grade}`)),
        " ",
        h("a", { href: href("alerts") }, alert.title),
        h("div", { class: "small muted" }, t("alerts.due"), ": ", countdown(alert.due_at)),
        h(
          "ul",
          { class: "plain small" },
          alert.tasks
            .map((taskKey) => tasks.get(taskKey))
            .filter(Boolean)
            .map((task) =>
              h(
                "li",
                { "data-task": task.key, "data-state": task.state },
                t("alerts.taskState", { state: t(`alerts.state.${task.state}`) }),
                " · ",
                task.assignee || task.role,
                " · ",
                countdown(task.due_at),
              ),
            ),
        ),
      ),
    ),
  );
}

/** A card headed by the message `node.section.<name>`. */
function section(name, body, id) {
  const headingId = `h-${name}`;
  return h(
    "section",
    { class: "card", "aria-labelledby": headingId, id },
    h("h2", { id: headingId }, t(`node.section.${name}`)),
    body,
  );
}

function value(v) {
  if (v === null || v === undefined) return h("span", { class: "muted" }, "—");
  if (typeof v === "string" && KEYLIKE.test(v) && !/^(https?|urn):/.test(v)) {
    return h("a", { href: href(["node", v]), class: "key" }, v);
  }
  if (typeof v === "object") return h("code", null, JSON.stringify(v));
  return String(v);
}

function factsTable(props) {
  const names = Object.keys(props || {}).sort();
  if (!names.length) return h("p", { class: "muted" }, t("node.noProps"));
  return h(
    "table",
    { class: "data facts" },
    h(
      "tbody",
      null,
      names.map((name) =>
        h(
          "tr",
          { class: name === "result" && props[name] === "fail" ? "bad" : null },
          h("th", { scope: "row" }, name.replaceAll("_", " ")),
          h("td", null, value(props[name])),
        ),
      ),
    ),
  );
}

function provenanceCells(p) {
  return [
    h("td", null, p.source_system ?? p.sourceSystem),
    h("td", null, p.source),
    h("td", { class: "num" }, p.line ?? "—"),
    h("td", null, hashCell(p.record_hash ?? p.recordHash, p.record_id ?? p.recordId)),
  ];
}

function hashCell(hash, recordId) {
  const out = [];
  if (recordId) out.push(h("div", null, h("code", { title: recordId }, recordId)));
  if (hash) out.push(h("code", { class: "hash", title: hash }, `${hash.slice(0, 12)}…`), " ", copyButton(hash, t("common.copy")));
  return out.length ? out : h("span", { class: "muted" }, "—");
}

function provenanceTable(versions) {
  if (!versions || !versions.length) return h("p", { class: "muted" }, t("node.noVersions"));
  return h(
    "div",
    { class: "scroll-x" },
    h(
      "table",
      { class: "data", "aria-label": t("node.versionsLabel") },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          [
            "node.col.recorded",
            "node.col.sourceSystem",
            "node.col.file",
            "node.col.line",
            "node.col.record",
            "node.col.batch",
          ].map((key) => h("th", { scope: "col" }, t(key))),
        ),
      ),
      h(
        "tbody",
        null,
        versions.map((v) =>
          h(
            "tr",
            { class: v.retracted ? "retracted" : null },
            h("td", null, fmtTime(v.recorded_at)),
            provenanceCells(v.provenance),
            h("td", null, h("code", { title: v.batch_id }, v.batch_id.slice(0, 8))),
          ),
        ),
      ),
    ),
  );
}

function evidenceList(evidence) {
  if (!evidence) return h("p", { class: "muted" }, t("node.noEvidence"));
  const groups = [
    ["node.evidence.inspections", evidence.inspections],
    ["node.evidence.complaints", evidence.complaints],
    ["node.evidence.changes", evidence.changes],
    ["node.evidence.events", evidence.events],
  ].filter(([, facts]) => facts.length);
  if (!groups.length) return h("p", { class: "muted" }, t("node.noEvidenceKinds"));
  const out = h("div", { class: "evidence" });
  for (const [title, facts] of groups) {
    out.append(h("h3", null, `${t(title)} (${facts.length})`));
    out.append(
      h(
        "ul",
        { class: "plain" },
        facts.map((f) => {
          const props = f.node.props || {};
          const result = props.result;
          const source = f.versions[0]?.provenance;
          return h(
            "li",
            null,
            h("a", { href: href(["node", f.node.key]), class: "key" }, f.node.key),
            result ? h("span", { class: `result result-${result}` }, result) : null,
            props.type ? h("span", { class: "muted" }, ` ${props.type}`) : null,
            f.at ? h("span", { class: "muted" }, ` · ${fmtTime(f.at)}`) : null,
            props.notes || props.description || props.failure_mode
              ? h("div", { class: "note" }, props.notes || props.description || props.failure_mode)
              : null,
            source
              ? h(
                  "div",
                  { class: "source" },
                  `${source.sourceSystem} · ${source.source}${source.line ? `:${source.line}` : ""}`,
                )
              : null,
          );
        }),
      ),
    );
  }
  if (evidence.truncated) out.append(notice("info", t("node.evidenceTruncated")));
  return out;
}

function relationships(view) {
  const wrap = h("div", { class: "rels" });
  wrap.append(edgeGroups(t("node.upstream"), view.edges_in, (e) => e.source));
  wrap.append(edgeGroups(t("node.downstream"), view.edges_out, (e) => e.target));
  if (view.edges_truncated) {
    wrap.append(notice("info", t("node.edgesTruncated")));
  }
  return wrap;
}

function edgeGroups(title, edges, other) {
  const box = h("div", { class: "rel-side" }, h("h3", null, `${title}: ${edges.length}`));
  if (!edges.length) {
    box.append(h("p", { class: "muted" }, t("node.none")));
    return box;
  }
  const byType = new Map();
  for (const e of edges) byType.set(e.type, [...(byType.get(e.type) || []), e]);
  for (const [type, list] of byType) {
    const body = h("tbody");
    const table = h(
      "table",
      { class: "data compact" },
      h("caption", null, `${type} (${list.length})`),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["node.col.node", "node.col.at", "node.col.until", "node.col.sourceRecord"].map((key) =>
            h("th", { scope: "col" }, t(key)),
          ),
        ),
      ),
      body,
    );
    const rows = list.map((e) => edgeRow(e, other(e)));
    body.append(...rows.slice(0, EDGES_SHOWN));
    box.append(h("div", { class: "scroll-x" }, table));
    if (rows.length > EDGES_SHOWN) {
      const all = h("button", { type: "button", class: "btn-small" }, t("node.showAll", { count: rows.length }));
      all.addEventListener("click", () => {
        body.append(...rows.slice(EDGES_SHOWN));
        all.remove();
      });
      box.append(all);
    }
  }
  return box;
}

function edgeRow(e, otherKey) {
  const p = e.versions[0]?.provenance;
  return h(
    "tr",
    { class: e.retracted ? "retracted" : null },
    h("td", null, h("a", { href: href(["node", otherKey]), class: "key" }, otherKey)),
    h("td", null, fmtTime(e.at)),
    h("td", null, fmtTime(e.until)),
    h(
      "td",
      null,
      p ? `${p.source}${p.line ? `:${p.line}` : ""}` : "—",
      p && p.record_hash ? h("code", { class: "hash", title: p.record_hash }, ` ${p.record_hash.slice(0, 8)}…`) : null,
    ),
  );
}
