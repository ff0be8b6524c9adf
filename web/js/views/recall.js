// The recall view: from a start key (a bad supplier lot, a machine, a device), what the trace
// reaches, counted by kind and by consignee, with the consignee list and the complete exports.
// Counts come from the server's time-respecting trace: a device unpacked at a distributor is
// counted for the hospital it went to, not for wherever its emptied case went next.
import { api } from "../api.js";
import { fmtInt, h, notice } from "../dom.js";
import { badge, kindOrder, kindStyle, shortLabel } from "../kinds.js";
import { href } from "../router.js";
import { setCurrentKey } from "../state.js";
import { optionsFrom, paramsOf } from "./graph.js";

export default {
  id: "recall",
  match: (parts) => parts[0] === "recall" && parts.length > 1,
  render,
};

const AUTO_COUNT_MAX = 25; // consignees whose devices are counted without asking (one trace each)
const FULL_LISTING = 100000; // the server's default trace_max_limit

async function render(main, route, { signal }) {
  const asked = route.parts.slice(1).join("/");
  const direction = route.params.get("direction") === "backward" ? "backward" : "forward";
  const opts = optionsFrom(route.params);
  main.append(h("p", { class: "muted loading" }, "Tracing…"));
  const [start, trace, consigneeTrace] = await Promise.all([
    api.node(asked, { signal }),
    api.trace(direction, asked, opts, { signal }),
    // Asked separately and listed whole: a consignee list must never stop at a page.
    api.trace(direction, asked, { ...opts, kinds: "Consignee" }, { signal }),
  ]);
  setCurrentKey(start.key);
  const consigneeKeys = consigneeTrace.nodes.map((n) => n.key);
  const props = consigneeKeys.length ? await api.props(consigneeKeys, { signal }) : new Map();
  main.replaceChildren();
  const title = shortLabel(start.key, start.props);
  document.title = `Recall: ${title} · TraceGraph`;

  main.append(
    h(
      "header",
      { class: "page-head compact" },
      h("div", { class: "page-title" }, badge(start.kind), h("h1", null, `Recall list: ${title}`)),
      h(
        "p",
        { class: "key-line" },
        h("a", { href: href(["node", start.key]), class: "key" }, start.key),
        ` · ${direction === "forward" ? "everything downstream (impact)" : "everything upstream (genealogy)"}${opts.ignoreTime ? ", time ignored" : ""} · `,
        h("a", { href: href(["graph", direction, start.key], paramsOf(opts)) }, "see the graph"),
      ),
    ),
  );
  if (trace.is_partial || consigneeTrace.is_partial) {
    main.append(
      notice(
        "warn",
        "A server budget stopped this trace early: the counts are lower bounds. The exports run with a larger budget and say if they are partial.",
      ),
    );
  }

  const counts = new Map();
  for (const n of trace.nodes) counts.set(n.kind, (counts.get(n.kind) || 0) + 1);
  const devices = new Set(trace.nodes.filter((n) => n.kind === "Device").map((n) => n.key));

  // -- the exports: complete, streamed by the server, never paginated --------------------
  const exportLink = (label, format, kinds, testid) =>
    h(
      "a",
      {
        class: "btn",
        href: api.exportUrl(direction, start.key, { ...opts, kinds }, format),
        download: `recall-${safeName(title)}${kinds ? `-${kinds.toLowerCase()}` : ""}.${format}`,
        "data-testid": testid,
      },
      label,
    );
  main.append(
    h(
      "section",
      { class: "card", "aria-labelledby": "h-export" },
      h("h2", { id: "h-export" }, "Export"),
      h(
        "p",
        { class: "muted" },
        "Every node the trace reaches, with its level and the path that explains it (CSV columns degree, kind, key, via, path).",
      ),
      h(
        "div",
        { class: "actions" },
        exportLink(`Everything (${fmtInt(trace.total)}) · CSV`, "csv", undefined, "export-csv"),
        exportLink("Everything · JSON lines", "jsonl", undefined, "export-jsonl"),
        exportLink(`Devices (${fmtInt(counts.get("Device") || 0)}) · CSV`, "csv", "Device", "export-devices"),
        exportLink(`Consignees (${fmtInt(consigneeTrace.total)}) · CSV`, "csv", "Consignee", "export-consignees"),
      ),
    ),
  );

  // -- counts by kind -------------------------------------------------------------------
  const biggest = Math.max(1, ...counts.values());
  const rows = [...counts].sort((a, b) => kindOrder(a[0]) - kindOrder(b[0]));
  main.append(
    h(
      "div",
      { class: "recall-grid" },
      h(
        "section",
        { class: "card", "aria-labelledby": "h-by-kind" },
        h("h2", { id: "h-by-kind" }, "Reached, by kind"),
        h(
          "table",
          { class: "data bars", "data-testid": "counts-by-kind" },
          h(
            "tbody",
            null,
            rows.map(([kind, n]) =>
              h(
                "tr",
                { "data-kind": kind },
                h("th", { scope: "row" }, badge(kind)),
                h("td", { class: "num", "data-testid": `count-${kind}` }, fmtInt(n)),
                h(
                  "td",
                  { class: "bar-cell", "aria-hidden": "true" },
                  h("span", { class: "bar", style: { ...kindStyle(kind), "--share": `${(100 * n) / biggest}%` } }),
                ),
              ),
            ),
            h(
              "tr",
              { class: "total" },
              h("th", { scope: "row" }, "Total"),
              h("td", { class: "num", "data-testid": "count-total" }, fmtInt(trace.total)),
              h("td"),
            ),
          ),
        ),
        trace.truncated
          ? notice(
              "warn",
              `Counted over the ${fmtInt(trace.nodes.length)} nodes listed of ${fmtInt(trace.total)}; the total and the exports are complete.`,
            )
          : null,
      ),
      consigneeSection(),
    ),
  );
  // RISK VIEWS: the recall scope (devices over a risk threshold, the sensitivity table, on
  // hand vs shipped) goes here, beside these reachability counts, once risk/ serves it.

  function consigneeSection() {
    const body = h("tbody");
    const table = h(
      "table",
      { class: "data", "data-testid": "consignees" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["Consignee", "Type", "Country", "GLN key", "Shipments", "Devices"].map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      body,
    );
    const deliveries = new Map(); // consignee → shipments of this trace delivered to it
    for (const e of trace.edges) {
      if (e.type === "DELIVERED_TO") deliveries.set(e.target, (deliveries.get(e.target) || 0) + 1);
    }
    const deviceCells = new Map();
    for (const key of consigneeKeys) {
      const p = props.get(key) || {};
      const cell = h("td", { class: "num", "data-testid": "devices" }, "…");
      deviceCells.set(key, cell);
      body.append(
        h(
          "tr",
          { "data-key": key },
          h("td", null, h("a", { href: href(["node", key]) }, p.name || key)),
          h("td", null, p.consignee_type || "—"),
          h("td", null, p.country || "—"),
          h("td", null, h("code", { class: "key" }, key)),
          h("td", { class: "num" }, trace.truncated ? "—" : fmtInt(deliveries.get(key) || 0)),
          cell,
        ),
      );
    }
    const section = h(
      "section",
      { class: "card", "aria-labelledby": "h-consignees" },
      h("h2", { id: "h-consignees" }, `Consignees (${fmtInt(consigneeKeys.length)})`),
      consigneeKeys.length
        ? h("div", { class: "scroll-x" }, table)
        : h("p", { class: "muted" }, "The trace reaches no consignee."),
      consigneeKeys.length
        ? h(
            "p",
            { class: "muted small" },
            "Shipments: of this trace, delivered there. Devices: of this trace, received there (inside the containers at the moment they were shipped); a distributor's count includes what it sent on.",
          )
        : null,
    );
    const countable = direction === "forward" && !trace.truncated && devices.size > 0;
    if (!countable) {
      for (const cell of deviceCells.values()) cell.textContent = "—";
    } else if (consigneeKeys.length <= AUTO_COUNT_MAX) {
      countDevices(deviceCells);
    } else {
      for (const cell of deviceCells.values()) cell.textContent = "";
      const go = h(
        "button",
        { type: "button", class: "btn" },
        `Count devices per consignee (${consigneeKeys.length} traces)`,
      );
      go.addEventListener("click", () => {
        go.remove();
        countDevices(deviceCells);
      });
      section.querySelector("h2").after(h("p", null, go));
    }
    return section;
  }

  /** A consignee's devices, listed whole when the server allows it (a distributor's can
   * number more than the default listing), else as many as it lists: then the count is "≥". */
  async function receivedDevices(key) {
    const ask = (limit) =>
      api.trace("backward", key, { kinds: "Device", ignoreTime: opts.ignoreTime, limit }, { signal });
    try {
      return await ask(FULL_LISTING);
    } catch (error) {
      if (error.code === "limit_exceeded") return ask(undefined);
      throw error;
    }
  }

  /**
   * Devices of this trace that reached each consignee: those its own backward trace reaches
   * (what it received, inside containers at the moment they were shipped to it), one at a
   * time so the dashboard never floods a store that serves one call at a time.
   */
  async function countDevices(cells) {
    for (const [key, cell] of cells) {
      try {
        const received = await receivedDevices(key);
        const n = received.nodes.filter((d) => devices.has(d.key)).length;
        cell.textContent = `${received.truncated || received.is_partial ? "≥ " : ""}${fmtInt(n)}`;
      } catch (error) {
        if (error.name === "AbortError") return;
        cell.textContent = "?";
        cell.title = error.message;
      }
    }
  }
}

function safeName(text) {
  return text.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60);
}
