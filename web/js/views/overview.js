// Overview: the key figures (open alerts by grade and age, recent loads and their rejects, time to
// trace), what the store holds (nodes by kind, relationships by type, loads), where to start,
// and the nodes this browser opened recently.
import { api, rest } from "../api.js";
import { fmtInt, fmtTime, h, notice } from "../dom.js";
import { t } from "../i18n.js";
import { badge, kindOrder, kindStyle } from "../kinds.js";
import { href } from "../router.js";
import { recent } from "../state.js";

export default {
  id: "overview",
  match: (parts) => parts.length === 0 || parts[0] === "overview",
  render,
};

// Identifiers of the demo plant (`tracegraph demo`, seed 0), each in another accepted form;
// listed only when the store holds them, so a real plant's overview shows no dead examples.
const EXAMPLES = [
  ["(01)07612345000107(10)L240122-01", "01/07612345000107/10/L240122-01", "overview.example.gs1"],
  ["https://id.gs1.org/01/07612345000107/21/IVS000000021", "01/07612345000107/21/IVS000000021", "overview.example.dl"],
  ["urn:epc:id:sscc:7612345.0000000011", "00/076123450000000114", "overview.example.epc"],
  ["R-000002", "lot:R-000002", "overview.example.failedLot"],
  ["SUP-008", "supplier:SUP-008", "overview.example.supplier"],
];

async function render(main, _route, { signal }) {
  document.title = "TraceGraph";
  const [stats, known] = await Promise.all([
    readable(api.stats({ signal })),
    api
      .props(
        EXAMPLES.map(([, key]) => key),
        { signal },
      )
      .catch(() => new Map()),
  ]);
  const examples = EXAMPLES.filter(([, key]) => known.has(key));
  main.append(h("h1", null, t("overview.title")));
  const kpis = h("section", { class: "kpis", "aria-labelledby": "h-kpis", "data-testid": "kpis" });
  main.append(kpis);
  if (!stats) {
    // A role without graph:read (an auditor) sees the figures it may read, and where to go.
    main.append(notice("info", t("overview.noGraph"), " ", h("a", { href: href("audit") }, t("nav.audit"))));
    await fillKpis(kpis, [], signal);
    return;
  }
  main.append(
    h(
      "div",
      { class: "cards" },
      stat(t("overview.nodes"), fmtInt(stats.nodes), "stat-nodes"),
      stat(t("overview.relationships"), fmtInt(stats.edges), "stat-edges"),
      stat(t("overview.devices"), fmtInt(stats.nodes_by_kind.Device || 0), "stat-devices"),
      stat(
        t("overview.loads"),
        fmtInt(stats.batches),
        "stat-batches",
        stats.last_loaded_at && t("overview.lastLoad", { at: fmtTime(stats.last_loaded_at) }),
      ),
      stat(t("overview.store"), stats.backend, "stat-backend", t("overview.schema", { version: stats.schema_version })),
    ),
  );

  const kinds = Object.entries(stats.nodes_by_kind).sort((a, b) => kindOrder(a[0]) - kindOrder(b[0]));
  const biggest = Math.max(1, ...kinds.map(([, n]) => n));
  main.append(
    h(
      "div",
      { class: "overview-grid" },
      h(
        "section",
        { class: "card", "aria-labelledby": "h-kinds" },
        h("h2", { id: "h-kinds" }, t("overview.byKind")),
        kinds.length ? barTable(kinds, biggest) : h("p", { class: "muted" }, t("overview.empty")),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "h-start" },
        h("h2", { id: "h-start" }, t("overview.start")),
        h(
          "p",
          null,
          t("overview.startHelp1"),
          h("kbd", null, "/"),
          t("overview.startHelp2"),
          examples.length ? ` ${t("overview.forExample")}` : null,
        ),
        h(
          "ul",
          { class: "plain examples" },
          examples.map(([text, , what]) =>
            h(
              "li",
              null,
              h("a", { href: href("search", { q: text }), class: "key" }, text),
              h("span", { class: "muted" }, ` ${t(what)}`),
            ),
          ),
        ),
        recentList(),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "h-edges" },
        h("h2", { id: "h-edges" }, t("overview.byType")),
        h(
          "table",
          { class: "data compact" },
          h(
            "tbody",
            null,
            Object.entries(stats.edges_by_type).map(([type, n]) =>
              h("tr", null, h("th", { scope: "row" }, type), h("td", { class: "num" }, fmtInt(n))),
            ),
          ),
        ),
      ),
    ),
  );
  await fillKpis(kpis, examples, signal);
}

// -- key figures ------------------------------------------------------------------------------

const GRADES = ["recall-candidate", "critical", "warning", "watch"];
const AGES = [
  // [bucket of GET /api/v1/kpis, upper bound in hours, message key]
  ["under_1_day", 24, "overview.age.day"],
  ["1_to_7_days", 24 * 7, "overview.age.week"],
  ["7_to_30_days", 24 * 30, "overview.age.month"],
  ["over_30_days", Infinity, "overview.age.older"],
];
const RECENT_LOADS = 5;

/** A figure the signed-in role may not read (403), or a server without it (404), is left out. */
function readable(promise) {
  return promise.catch((error) => {
    if (error.name === "AbortError") throw error;
    if (error.status === 403 || error.status === 404) return null;
    throw error;
  });
}

/** Open alerts as grade -> age bucket -> count: from the server's KPIs, else from the alerts. */
async function openAlerts(kpis, signal) {
  if (kpis && kpis.open_alerts) return kpis.open_alerts.by_grade_and_age;
  const alerts = await readable(rest("/api/v1/alerts", { state: "open" }, { signal }));
  if (!alerts) return null;
  const now = Date.now();
  const table = Object.fromEntries(GRADES.map((g) => [g, Object.fromEntries(AGES.map(([b]) => [b, 0]))]));
  for (const alert of alerts) {
    const hours = (now - Date.parse(alert.opened_at)) / 3_600_000;
    const [bucket] = AGES.find(([, high]) => hours < high);
    if (table[alert.grade]) table[alert.grade][bucket] += 1;
  }
  return table;
}

async function fillKpis(section, examples, signal) {
  const traceKey = examples.length ? examples[0][1] : null;
  const kpis = await readable(rest("/api/v1/kpis", null, { signal }));
  const [alerts, loads, traced] = await Promise.all([
    openAlerts(kpis, signal),
    readable(loadHistory(signal)),
    traceKey ? readable(timeToTrace(traceKey, signal)) : null,
  ]);
  section.append(h("h2", { id: "h-kpis" }, t("overview.kpis")));
  const grid = h("div", { class: "overview-grid" });
  if (alerts) grid.append(alertCard(alerts));
  if (loads) grid.append(loadCard(loads));
  if (traced || kpis?.time_to_trace) grid.append(traceCard(traced, kpis?.time_to_trace));
  section.append(grid.childElementCount ? grid : h("p", { class: "muted" }, t("overview.noKpis")));
}

function alertCard(byGradeAndAge) {
  const count = (grade, bucket) => (byGradeAndAge[grade] || {})[bucket] || 0;
  const totalOf = (grade) => AGES.reduce((sum, [bucket]) => sum + count(grade, bucket), 0);
  const open = GRADES.reduce((sum, grade) => sum + totalOf(grade), 0);
  const head = h(
    "tr",
    null,
    h("th", { scope: "col" }, t("overview.grade")),
    AGES.map(([, , key]) => h("th", { scope: "col", class: "num" }, t(key))),
    h("th", { scope: "col", class: "num" }, t("overview.total")),
  );
  const rows = GRADES.map((grade) => {
    const cells = AGES.map(([bucket]) => {
      const n = count(grade, bucket);
      return h("td", { class: "num" }, n ? fmtInt(n) : "·");
    });
    const total = totalOf(grade);
    return h(
      "tr",
      { "data-grade": grade },
      h("th", { scope: "row" }, h("span", { class: `grade-chip grade-${grade}` }, t(`grade.${grade}`))),
      cells,
      h("td", { class: "num" }, h("a", { href: href("alerts") }, fmtInt(total))),
    );
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "h-open-alerts", "data-testid": "kpi-alerts" },
    h("h3", { id: "h-open-alerts" }, t("overview.openAlerts", { count: open })),
    h("table", { class: "data compact" }, h("thead", null, head), h("tbody", null, rows)),
  );
}

/** The latest loads from the audit trail (every load is recorded there with its counts). */
async function loadHistory(signal) {
  const loads = [];
  let after = 0;
  for (;;) {
    const page = await rest("/api/v1/audit", { action: "load", after, limit: 1000 }, { signal });
    loads.push(...page.entries);
    if (page.next_after === null) break;
    after = page.next_after;
  }
  return loads.slice(-RECENT_LOADS).reverse();
}

function loadCard(loads) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "h-loads", "data-testid": "kpi-loads" },
    h("h3", { id: "h-loads" }, t("overview.recentLoads")),
    loads.length
      ? h(
          "table",
          { class: "data compact" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", { scope: "col" }, t("overview.loadedAt")),
              h("th", { scope: "col" }, t("overview.loadSource")),
              h("th", { scope: "col", class: "num" }, t("overview.records")),
              h("th", { scope: "col", class: "num" }, t("overview.rejected")),
            ),
          ),
          h(
            "tbody",
            null,
            loads.map((e) => {
              const n = e.new || {};
              const rejected = Number(n.rejected || 0);
              return h(
                "tr",
                { class: rejected ? "bad" : null },
                h("td", null, fmtTime(e.at)),
                h("td", null, (n.sources || [e.subject]).map((source, i) => [
                  i ? ", " : "",
                  h("span", { class: "key", title: source }, source.split("/").filter(Boolean).pop() || source),
                ])),
                h("td", { class: "num" }, fmtInt(n.records || 0)),
                h("td", { class: "num" }, fmtInt(rejected)),
              );
            }),
          ),
        )
      : h("p", { class: "muted" }, t("overview.noLoads")),
  );
}

/** How long a forward trace of an example identifier takes from this browser, answer included. */
async function timeToTrace(key, signal) {
  const started = performance.now();
  const result = await api.trace("forward", key, {}, { signal });
  return { key, ms: performance.now() - started, nodes: result.nodes ? result.nodes.length : null };
}

/** Time to trace: the recall drills' median (question to consignee list), when drills are
 * logged, and a forward trace measured from this browser now. */
function traceCard(traced, drills) {
  const median = drills && drills.median_seconds_to_consignee_list;
  return h(
    "section",
    { class: "card", "aria-labelledby": "h-ttt", "data-testid": "kpi-trace" },
    h("h3", { id: "h-ttt" }, t("overview.timeToTrace")),
    median !== null && median !== undefined
      ? [
          h("div", { class: "stat-value" }, t("overview.minutes", { minutes: (median / 60).toFixed(1) })),
          h("p", { class: "muted small" }, t("overview.drills", { count: drills.drills })),
        ]
      : null,
    traced
      ? [
          h("div", { class: "stat-value" }, t("overview.ms", { ms: Math.round(traced.ms) })),
          h(
            "p",
            { class: "muted small" },
            t("overview.timeToTraceHelp", { nodes: traced.nodes === null ? "?" : fmtInt(traced.nodes) }),
            " ",
            h("a", { href: href(["graph", "forward", traced.key]), class: "key" }, traced.key),
          ),
        ]
      : null,
  );
}

function stat(label, value, testid, note) {
  return h(
    "div",
    { class: "stat", "data-testid": testid },
    h("div", { class: "stat-value" }, value),
    h("div", { class: "stat-label" }, label),
    note ? h("div", { class: "stat-note" }, note) : null,
  );
}

function barTable(rows, biggest) {
  return h(
    "table",
    { class: "data bars", "aria-label": t("overview.byKind") },
    h(
      "tbody",
      null,
      rows.map(([kind, n]) =>
        h(
          "tr",
          { "data-kind": kind },
          h("th", { scope: "row" }, badge(kind)),
          h("td", { class: "num" }, fmtInt(n)),
          h(
            "td",
            { class: "bar-cell", "aria-hidden": "true" },
            h("span", { class: "bar", style: { ...kindStyle(kind), "--share": `${(100 * n) / biggest}%` } }),
          ),
        ),
      ),
    ),
  );
}

function recentList() {
  const items = recent();
  if (!items.length) return null;
  return [
    h("h3", null, t("overview.recent")),
    h(
      "ul",
      { class: "plain" },
      items.map((e) =>
        h(
          "li",
          null,
          badge(e.kind),
          " ",
          h("a", { href: href(["node", e.key]) }, e.label),
          h("span", { class: "muted key" }, ` ${e.key}`),
        ),
      ),
    ),
  ];
}
