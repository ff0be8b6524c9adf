// Overview: what the store holds (nodes by kind, relationships by type, loads), where to start,
// and the nodes this browser opened recently.
import { api } from "../api.js";
import { fmtInt, fmtTime, h } from "../dom.js";
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
  ["(01)07612345000107(10)L240122-01", "01/07612345000107/10/L240122-01", "a GS1 element string, as scanned"],
  ["https://id.gs1.org/01/07612345000107/21/IVS000000021", "01/07612345000107/21/IVS000000021", "a GS1 Digital Link"],
  ["urn:epc:id:sscc:7612345.0000000011", "00/076123450000000114", "an EPC URN of a case"],
  ["R-000002", "lot:R-000002", "a supplier lot that failed incoming inspection"],
  ["SUP-008", "supplier:SUP-008", "a supplier code"],
];

async function render(main, _route, { signal }) {
  document.title = "TraceGraph";
  const [stats, known] = await Promise.all([
    api.stats({ signal }),
    api
      .props(
        EXAMPLES.map(([, key]) => key),
        { signal },
      )
      .catch(() => new Map()),
  ]);
  const examples = EXAMPLES.filter(([, key]) => known.has(key));
  main.append(h("h1", null, "Overview"));
  main.append(
    h(
      "div",
      { class: "cards" },
      stat("Nodes", fmtInt(stats.nodes), "stat-nodes"),
      stat("Relationships", fmtInt(stats.edges), "stat-edges"),
      stat("Devices", fmtInt(stats.nodes_by_kind.Device || 0), "stat-devices"),
      stat(
        "Loads",
        fmtInt(stats.batches),
        "stat-batches",
        stats.last_loaded_at && `last ${fmtTime(stats.last_loaded_at)}`,
      ),
      stat("Store", stats.backend, "stat-backend", `schema ${stats.schema_version}`),
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
        h("h2", { id: "h-kinds" }, "Nodes by kind"),
        kinds.length
          ? barTable(kinds, biggest)
          : h("p", { class: "muted" }, "The store is empty: load data with `tracegraph load`."),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "h-start" },
        h("h2", { id: "h-start" }, "Start here"),
        h(
          "p",
          null,
          "Paste or scan any identifier into the search box (press ",
          h("kbd", null, "/"),
          " to get there): a barcode (GS1 or HIBCC), a GS1 Digital Link, an EPC URN, a lot, a serial, an SSCC, ",
          "a supplier or equipment code.",
          examples.length ? " For example:" : null,
        ),
        h(
          "ul",
          { class: "plain examples" },
          examples.map(([text, , what]) =>
            h(
              "li",
              null,
              h("a", { href: href("search", { q: text }), class: "key" }, text),
              h("span", { class: "muted" }, ` ${what}`),
            ),
          ),
        ),
        recentList(),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "h-edges" },
        h("h2", { id: "h-edges" }, "Relationships by type"),
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
  // RISK VIEWS: open alerts by grade and overdue tasks belong on this page once risk/ serves them.
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
    { class: "data bars", "aria-label": "Nodes by kind" },
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
    h("h3", null, "Recently opened here"),
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
