// The recall view: from a start key (a bad supplier lot, a machine, a device), first the recall
// scope (the devices whose probability of being affected reaches a threshold, where they are,
// how the scope grows as the threshold falls), then what the trace reaches, counted by kind and
// by consignee, with the consignee list and the complete exports.
// Counts come from the server's time-respecting trace: a device unpacked at a distributor is
// counted for the hospital it went to, not for wherever its emptied case went next.
import { api } from "../api.js";
import { clear, fmtInt, h, notice, s as svg } from "../dom.js";
import { t } from "../i18n.js";
import { badge, kindOrder, kindStyle, shortLabel } from "../kinds.js";
import { href, parse, replaceParams } from "../router.js";
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
  main.append(h("p", { class: "muted loading" }, t("graph.tracing")));
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
  document.title = `${t("recall.docTitle", { title })} · TraceGraph`;

  main.append(
    h(
      "header",
      { class: "page-head compact" },
      h("div", { class: "page-title" }, badge(start.kind), h("h1", null, t("recall.title", { title }))),
      h(
        "p",
        { class: "key-line" },
        h("a", { href: href(["node", start.key]), class: "key" }, start.key),
        ` · ${t(direction === "forward" ? "recall.downstream" : "recall.upstream")}`,
        opts.ignoreTime ? `, ${t("recall.timeIgnored")}` : "",
        " · ",
        h("a", { href: href(["graph", direction, start.key], paramsOf(opts)) }, t("recall.seeGraph")),
      ),
    ),
  );
  main.append(scopeSection(start.key, title, route.params, opts, signal));
  main.append(h("h2", { class: "section-title" }, t("recall.reaches")));
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
      h("h2", { id: "h-export" }, t("recall.export")),
      h(
        "p",
        { class: "muted" },
        t("recall.exportHelp"),
      ),
      h(
        "div",
        { class: "actions" },
        exportLink(t("recall.exportAll", { count: fmtInt(trace.total) }), "csv", undefined, "export-csv"),
        exportLink(t("recall.exportJsonl"), "jsonl", undefined, "export-jsonl"),
        exportLink(
          t("recall.exportDevices", { count: fmtInt(counts.get("Device") || 0) }),
          "csv",
          "Device",
          "export-devices",
        ),
        exportLink(
          t("recall.exportConsignees", { count: fmtInt(consigneeTrace.total) }),
          "csv",
          "Consignee",
          "export-consignees",
        ),
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
        h("h2", { id: "h-by-kind" }, t("recall.byKind")),
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
              h("th", { scope: "row" }, t("overview.total")),
              h("td", { class: "num", "data-testid": "count-total" }, fmtInt(trace.total)),
              h("td"),
            ),
          ),
        ),
        trace.truncated
          ? notice(
              "warn",
              t("recall.countedOver", { listed: fmtInt(trace.nodes.length), total: fmtInt(trace.total) }),
            )
          : null,
      ),
      consigneeSection(),
    ),
  );
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
          [
            "recall.col.consignee",
            "recall.col.type",
            "recall.col.country",
            "recall.col.gln",
            "recall.col.shipments",
            "recall.col.devices",
          ].map((key) => h("th", { scope: "col" }, t(key))),
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
      h("h2", { id: "h-consignees" }, t("recall.consignees", { count: fmtInt(consigneeKeys.length) })),
      consigneeKeys.length
        ? h("div", { class: "scroll-x" }, table)
        : h("p", { class: "muted" }, t("recall.noConsignee")),
      consigneeKeys.length
        ? h(
            "p",
            { class: "muted small" },
            t("recall.consigneesHelp"),
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
        t("recall.countDevices", { count: consigneeKeys.length }),
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

// -- the recall scope (GET /api/v1/recall) -------------------------------------------------

const THRESHOLD = { min: 0.05, max: 1, step: 0.05, initial: 0.5 };
const REFETCH_DELAY_MS = 200; // a slider dragged across asks once it rests, not at every step

/** A number from the address within [min, max], or the fallback. */
function numberParam(params, name, min, max, fallback) {
  const raw = params.get(name);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
}

/** "0.80" from 0.8000000001: the slider's steps, as people read them. */
function fmtP(p) {
  return Number(p).toFixed(2);
}

/**
 * The recall scope of `startKey`, redrawn whenever the threshold, the start's prior probability
 * or the carry-over runs change: counts by product lot and by consignee, on hand against
 * shipped, the sensitivity chart and the device list as CSV. The section carries
 * `data-threshold` (the threshold of the answer on screen) and `aria-busy` while it asks.
 */
function scopeSection(startKey, title, params, opts, viewSignal) {
  const settings = {
    threshold: numberParam(params, "threshold", THRESHOLD.min, THRESHOLD.max, THRESHOLD.initial),
    probability: numberParam(params, "probability", THRESHOLD.min, 1, 1),
    carryover: Math.round(numberParam(params, "carryover", 0, 20, 0)),
  };
  const slider = h("input", {
    id: "scope-threshold",
    type: "range",
    min: THRESHOLD.min,
    max: THRESHOLD.max,
    step: THRESHOLD.step,
    value: settings.threshold,
    "aria-describedby": "scope-threshold-help",
  });
  const shown = h("output", { for: "scope-threshold", "data-testid": "scope-threshold" }, fmtP(settings.threshold));
  const prior = h("input", {
    id: "scope-probability",
    type: "number",
    min: THRESHOLD.min,
    max: 1,
    step: 0.05,
    value: settings.probability,
    inputmode: "decimal",
  });
  const carry = h("input", {
    id: "scope-carryover",
    type: "number",
    min: 0,
    max: 20,
    step: 1,
    value: settings.carryover,
    inputmode: "numeric",
  });
  const body = h("div", { class: "scope-body" }, h("p", { class: "muted loading" }, t("recall.estimating")));
  const section = h(
    "section",
    { class: "card scope", "aria-labelledby": "h-scope", "data-testid": "scope", "aria-busy": "true" },
    h("h2", { id: "h-scope" }, t("recall.scope")),
    h(
      "p",
      { class: "muted" },
      t("recall.scopeHelp"),
    ),
    h(
      "form",
      { class: "scope-controls", "aria-label": t("recall.scopeSettings") },
      h(
        "div",
        { class: "field field-slider" },
        h("label", { for: "scope-threshold" }, t("recall.threshold"), " ", shown),
        slider,
        h(
          "span",
          { id: "scope-threshold-help", class: "muted small" },
          t("recall.sliderHelp"),
        ),
      ),
      h("div", { class: "field" }, h("label", { for: "scope-probability" }, t("recall.prior")), prior),
      h("div", { class: "field" }, h("label", { for: "scope-carryover" }, t("recall.carryover")), carry),
    ),
    body,
  );
  const windowed = Boolean(opts.from || opts.to);
  const report = reportBlock(title, () => ({ startKey, windowed, ...settings }), viewSignal);
  section.append(report.element);

  let pending = null; // the request on its way: a newer setting aborts it
  let timer = null;
  viewSignal.addEventListener("abort", () => {
    clearTimeout(timer);
    if (pending) pending.abort();
  });

  async function load() {
    if (pending) pending.abort();
    const controller = new AbortController();
    pending = controller;
    const signal = AbortSignal.any ? AbortSignal.any([viewSignal, controller.signal]) : controller.signal;
    section.setAttribute("aria-busy", "true");
    const asked = { ...settings };
    try {
      const scope = await api.recallScope(
        [startKey],
        { ...asked, from: opts.from, to: opts.to }, // the start's window: when it was bad
        { signal },
      );
      if (controller.signal.aborted) return;
      drawScope(body, scope, asked, { startKey, title, onPick: pick });
      section.dataset.threshold = String(asked.threshold);
    } catch (error) {
      if (error.name === "AbortError") return;
      clear(body).append(notice("error", h("strong", null, t("recall.scopeFailed"), " "), error.message));
      delete section.dataset.threshold;
    } finally {
      if (pending === controller) {
        pending = null;
        section.setAttribute("aria-busy", "false");
      }
    }
  }

  function changed({ now = false } = {}) {
    const { params: current } = parse();
    replaceParams({
      ...Object.fromEntries(current),
      threshold: settings.threshold === THRESHOLD.initial ? undefined : settings.threshold,
      probability: settings.probability === 1 ? undefined : settings.probability,
      carryover: settings.carryover || undefined,
    });
    report.update();
    clearTimeout(timer);
    if (now) load();
    else timer = setTimeout(load, REFETCH_DELAY_MS);
  }

  function pick(threshold) {
    slider.value = threshold;
    settings.threshold = Number(slider.value);
    shown.textContent = fmtP(settings.threshold);
    changed({ now: true });
  }

  slider.addEventListener("input", () => {
    settings.threshold = Number(slider.value);
    shown.textContent = fmtP(settings.threshold);
    changed();
  });
  for (const [input, name, min, max] of [
    [prior, "probability", THRESHOLD.min, 1],
    [carry, "carryover", 0, 20],
  ]) {
    input.addEventListener("change", () => {
      const n = Number(input.value);
      if (input.value === "" || !Number.isFinite(n) || n < min || n > max) {
        input.setAttribute("aria-invalid", "true");
        return; // the browser's own validity message says what is allowed
      }
      input.removeAttribute("aria-invalid");
      settings[name] = name === "carryover" ? Math.round(n) : n;
      changed({ now: true });
    });
  }
  section.querySelector("form").addEventListener("submit", (event) => event.preventDefault());
  load();
  return section;
}

const MEANINGS = ["approval", "review", "responsibility"]; // labelled by alerts.meaning.<value>

/**
 * The recall report of the scope on screen (POST /api/v1/reports/recall): the evidence package
 * (ZIP: the PDF, the CSVs, the subgraph, the cited records and a manifest) or the report's JSON
 * document, optionally signed as it is generated (the signer re-enters their own API key).
 * The report takes a start as certainly bad, so it is offered only at P(start is bad) = 1
 * without carry-over: otherwise it would not be the scope on screen.
 */
function reportBlock(title, current, viewSignal) {
  const note = h("p", { class: "muted small", "data-testid": "report-note" });
  const status = h("div", { class: "report-status", "aria-live": "polite" });
  const key = h("input", { id: "sign-key", type: "password", autocomplete: "current-password", spellcheck: "false" });
  const meaning = h(
    "select",
    { id: "sign-meaning" },
    MEANINGS.map((value) => h("option", { value }, t(`alerts.meaning.${value}`))),
  );
  const reason = h("input", { id: "sign-reason", type: "text", value: t("recall.signDefault") });
  const sign = h(
    "details",
    { class: "sign" },
    h("summary", null, t("recall.signSummary")),
    h(
      "div",
      { class: "scope-controls" },
      h("div", { class: "field" }, h("label", { for: "sign-key" }, t("alerts.signKey")), key),
      h("div", { class: "field" }, h("label", { for: "sign-meaning" }, t("alerts.signMeaning")), meaning),
      h("div", { class: "field field-wide" }, h("label", { for: "sign-reason" }, t("recall.reason")), reason),
    ),
    h(
      "p",
      { class: "muted small" },
      t("recall.signHelp"),
    ),
  );
  const zip = h("button", { type: "button", class: "btn", "data-testid": "report-zip" }, t("recall.zip"));
  const json = h("button", { type: "button", class: "btn", "data-testid": "report-json" }, t("recall.json"));

  async function generate(format) {
    const { startKey, threshold } = current();
    const body = { starts: [startKey], threshold, format };
    if (key.value) {
      if (!reason.value.trim()) {
        clear(status).append(notice("error", "A signature needs a reason: say what you attest."));
        return reason.focus();
      }
      body.sign = { api_key: key.value, meaning: meaning.value, reason: reason.value.trim() };
    }
    zip.disabled = json.disabled = true;
    clear(status).append(h("p", { class: "muted" }, t("recall.generating")));
    try {
      const response = await api.recallReport(body, { signal: viewSignal });
      const blob = await response.blob();
      const name = `recall-report-${safeName(title)}-p${fmtP(threshold)}.${format}`;
      saveBlob(name, blob);
      key.value = ""; // a signature's key is asked again every time
      clear(status).append(
        notice(
          "info",
          t(body.sign ? "recall.savedSigned" : "recall.saved", { name, kb: fmtInt(Math.ceil(blob.size / 1024)) }),
        ),
      );
    } catch (error) {
      if (error.name === "AbortError") return;
      clear(status).append(
        notice(
          "error",
          h("strong", null, t("recall.reportFailed"), " "),
          error.message,
          error.code ? ` (${error.code})` : "",
        ),
      );
    } finally {
      update();
    }
  }
  zip.addEventListener("click", () => generate("zip"));
  json.addEventListener("click", () => generate("json"));

  function update() {
    const { probability, carryover, threshold, windowed } = current();
    const certain = probability === 1 && carryover === 0 && !windowed;
    zip.disabled = json.disabled = !certain;
    note.textContent = certain
      ? t("recall.reportNote", { threshold: fmtP(threshold) })
      : t(windowed ? "recall.reportWindowed" : "recall.reportUncertain");
  }
  update();
  return {
    element: h(
      "div",
      { class: "report", "aria-labelledby": "h-report" },
      h("h3", { id: "h-report" }, t("recall.report")),
      note,
      sign,
      h("div", { class: "actions" }, zip, json),
      status,
    ),
    update,
  };
}

function drawScope(body, scope, asked, { startKey, title, onPick }) {
  const devices = scope.devices;
  const shipped = scope.shipped.length;
  const onHand = scope.on_hand.length;
  clear(body);
  if (scope.is_partial) {
    body.append(notice("warn", "A server budget cut a trace short: the scope may be incomplete."));
  }
  body.append(
    h(
      "div",
      { class: "cards" },
      scopeStat(
        t("recall.inScope"),
        fmtInt(devices.length),
        "scope-devices",
        t("recall.ofReached", { count: fmtInt(scope.candidates) }),
      ),
      scopeStat(
        t("recall.expected"),
        scope.expected_in_scope.toFixed(1),
        "scope-expected",
        t("recall.allReached", { expected: scope.expected_affected.toFixed(1) }),
      ),
      scopeStat(
        t("recall.shipped"),
        fmtInt(shipped),
        "scope-shipped",
        t("recall.nConsignees", { count: fmtInt(scope.by_consignee.length) }),
      ),
      scopeStat(t("recall.onHand"), fmtInt(onHand), "scope-on-hand", t("recall.inStock")),
      scopeStat(t("recall.productLots"), fmtInt(scope.by_lot.length), "scope-lots"),
    ),
  );
  body.append(containmentBar(shipped, onHand));

  const csv = h(
    "button",
    { type: "button", class: "btn", "data-testid": "scope-csv", disabled: devices.length ? null : true },
    t("recall.scopeCsv", { count: fmtInt(devices.length) }),
  );
  csv.addEventListener("click", () =>
    download(`recall-scope-${safeName(title)}-p${fmtP(asked.threshold)}.csv`, scopeCsv(scope), "text/csv"),
  );
  body.append(h("div", { class: "actions" }, csv));

  body.append(
    h(
      "div",
      { class: "scope-grid" },
      h(
        "figure",
        { class: "sensitivity" },
        sensitivityChart(scope.sensitivity, asked.threshold, onPick),
        h(
          "figcaption",
          { class: "muted small" },
          t("recall.sensitivity"),
        ),
      ),
      groupTable(t("recall.byLot"), "scope-by-lot", scope.by_lot, false),
      groupTable(t("recall.byConsignee"), "scope-by-consignee", scope.by_consignee, true),
    ),
  );
  if (onHand) body.append(onHandTable(scope.on_hand));
  if (!devices.length) {
    body.append(
      h(
        "p",
        { class: "muted" },
        t("recall.noneInScope", { threshold: fmtP(asked.threshold) }),
        " ",
        h("code", { class: "key" }, startKey),
        t("recall.noneInScopeHelp"),
      ),
    );
  }
}

function scopeStat(label, value, testid, note) {
  return h(
    "div",
    { class: "stat" },
    h("div", { class: "stat-value", "data-testid": testid }, value),
    h("div", { class: "stat-label" }, label),
    note ? h("div", { class: "stat-note" }, note) : null,
  );
}

function containmentBar(shipped, onHand) {
  const total = shipped + onHand;
  if (!total) return null;
  const share = (n) => `${((100 * n) / total).toFixed(1)}%`;
  return h(
    "div",
    {
      class: "containment",
      role: "img",
      "aria-label": t("recall.containmentLabel", {
        shipped: fmtInt(shipped),
        shippedShare: share(shipped),
        onHand: fmtInt(onHand),
        onHandShare: share(onHand),
      }),
    },
    h("span", { class: "part shipped", style: { width: share(shipped) } }, shipped ? t("recall.shippedShare", { share: share(shipped) }) : ""),
    h("span", { class: "part on-hand", style: { width: share(onHand) } }, onHand ? t("recall.onHandShare", { share: share(onHand) }) : ""),
  );
}

const GROUP_ROWS = 50; // more are in the CSV

function groupTable(caption, testid, groups, consignees) {
  const head = (consignees ? ["consignee", "country", "devices", "expected"] : ["lot", "devices", "expected"]).map(
    (column) => t(`recall.col.${column}`),
  );
  const rows = groups.slice(0, GROUP_ROWS).map((g) =>
    h(
      "tr",
      { "data-key": g.key },
      h("td", null, h("a", { href: href(["node", g.key]) }, consignees ? g.name || g.key : g.key)),
      consignees ? h("td", null, g.country || "—") : null,
      h("td", { class: "num", "data-testid": "group-count" }, fmtInt(g.count)),
      h("td", { class: "num" }, g.expected.toFixed(1)),
    ),
  );
  return h(
    "div",
    { class: "scroll-x group" },
    h(
      "table",
      { class: "data", "data-testid": testid },
      h("caption", null, `${caption} (${fmtInt(groups.length)})`),
      h("thead", null, h("tr", null, head.map((label) => h("th", { scope: "col" }, label)))),
      h("tbody", null, rows),
    ),
    groups.length > GROUP_ROWS
      ? h("p", { class: "muted small" }, t("recall.firstRows", { count: GROUP_ROWS }))
      : null,
  );
}

function onHandTable(items) {
  const sites = new Map();
  for (const item of items) sites.set(item.site || "—", (sites.get(item.site || "—") || 0) + 1);
  return h(
    "details",
    { class: "on-hand" },
    h("summary", null, t("recall.onHandBySite", { count: fmtInt(sites.size) })),
    h(
      "table",
      { class: "data compact" },
      h(
        "thead",
        null,
        h("tr", null, h("th", { scope: "col" }, t("recall.col.site")), h("th", { scope: "col" }, t("recall.col.devices"))),
      ),
      h(
        "tbody",
        null,
        [...sites].map(([site, n]) => h("tr", null, h("td", null, site), h("td", { class: "num" }, fmtInt(n)))),
      ),
    ),
  );
}

/** Devices in scope against the threshold: a step line over the server's sensitivity table,
 * the threshold in use marked; each point a button that sets the slider. Plain SVG. */
function sensitivityChart(rows, threshold, onPick) {
  const W = 360;
  const H = 200;
  const pad = { left: 46, right: 12, top: 12, bottom: 34 };
  const top = Math.max(1, ...rows.map((r) => r.devices));
  const x = (p) => pad.left + p * (W - pad.left - pad.right);
  const y = (n) => H - pad.bottom - (n / top) * (H - pad.top - pad.bottom);
  const described = rows.map((r) => `${fmtP(r.threshold)}: ${fmtInt(r.devices)}`).join(", ");
  const chart = svg("svg", {
    class: "chart",
    viewBox: `0 0 ${W} ${H}`,
    role: "group",
    "aria-label": t("recall.chartLabel", { points: described }),
    "data-testid": "sensitivity",
  });
  // Axes and their ticks: thresholds 0 to 1, devices 0 to the largest.
  chart.append(
    svg("line", { class: "axis", x1: x(0), y1: y(0), x2: x(1), y2: y(0) }),
    svg("line", { class: "axis", x1: x(0), y1: y(0), x2: x(0), y2: y(top) }),
  );
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    chart.append(svg("text", { class: "tick", x: x(tick), y: H - pad.bottom + 16, "text-anchor": "middle" }, fmtP(tick)));
  }
  for (const n of [0, top]) {
    chart.append(svg("text", { class: "tick", x: pad.left - 6, y: y(n) + 4, "text-anchor": "end" }, fmtInt(n)));
  }
  chart.append(
    svg("text", { class: "axis-label", x: x(0.5), y: H - 4, "text-anchor": "middle" }, t("recall.axis")),
  );
  if (rows.length) {
    // The scope at t holds every device with P ≥ t: constant until the next row, hence steps.
    let d = `M ${x(rows[0].threshold)} ${y(rows[0].devices)}`;
    for (let i = 1; i < rows.length; i++) d += ` H ${x(rows[i].threshold)} V ${y(rows[i].devices)}`;
    chart.append(svg("path", { class: "line", d }));
  }
  chart.append(
    svg("line", { class: "current", x1: x(threshold), y1: y(0), x2: x(threshold), y2: y(top) - 4 }),
    svg("text", { class: "current-label", x: x(threshold), y: pad.top - 2, "text-anchor": "middle" }, fmtP(threshold)),
  );
  for (const r of rows) {
    const label = t("recall.pointLabel", {
      threshold: fmtP(r.threshold),
      devices: fmtInt(r.devices),
      lots: fmtInt(r.lots),
      consignees: fmtInt(r.consignees),
    });
    const point = svg(
      "circle",
      {
        class: Math.abs(r.threshold - threshold) < 1e-9 ? "point current-point" : "point",
        cx: x(r.threshold),
        cy: y(r.devices),
        r: 5,
        tabindex: "-1", // the slider is the keyboard's way; points are a shortcut for the mouse
        "data-threshold": r.threshold,
        "data-devices": r.devices,
      },
      svg("title", null, label),
    );
    point.addEventListener("click", () => onPick(r.threshold));
    chart.append(point);
  }
  return chart;
}

const SCOPE_CSV_HEADER = [
  "device",
  "probability",
  "lot",
  "shipped",
  "consignee",
  "consignee_name",
  "delivered_at",
  "path",
];

/** The devices in scope, one row each, as the answer lists them (RFC 4180 quoting). */
export function scopeCsv(scope) {
  const shipped = new Map(scope.shipped.map((s) => [s.device, s]));
  const rows = [SCOPE_CSV_HEADER];
  for (const d of scope.devices) {
    const delivery = shipped.get(d.key);
    rows.push([
      d.key,
      String(d.probability),
      d.lot || "",
      d.shipped ? "true" : "false",
      d.consignee || "",
      delivery?.name || "",
      delivery?.delivered_at == null ? "" : new Date(delivery.delivered_at * 1000).toISOString(),
      d.path.join(" > "),
    ]);
  }
  return rows.map((row) => row.map(csvField).join(",")).join("\n") + "\n";
}

function csvField(value) {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Save `text` as a file through the browser's own download. */
function download(name, text, type) {
  saveBlob(name, new Blob([text], { type }));
}

function saveBlob(name, blob) {
  const link = h("a", { href: URL.createObjectURL(blob), download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
