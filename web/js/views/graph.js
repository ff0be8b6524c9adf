// The genealogy (backward) and impact (forward) graph of one start key. The server's trace
// does the work, time-bounded containment included; this view groups, lays out and explains:
// select a node to highlight its explaining path, a group to list or expand its members, a
// level heading or a kind to collapse them all.
import { api } from "../api.js";
import { fmtInt, h, notice } from "../dom.js";
import { t } from "../i18n.js";
import {
  AGGREGATE_OVER,
  EXPAND_ALL_MAX,
  EXPAND_STEP,
  displayGraph,
  groupsOf,
  initialView,
  pathIndex,
  pathOnScreen,
  shownCount,
} from "../graph/model.js";
import { layout } from "../graph/layout.js";
import { createCanvas } from "../graph/render.js";
import { badge, kindName, kindOrder, kindStyle, plural, shortLabel } from "../kinds.js";
import { go, href, replaceParams } from "../router.js";
import { current, setCurrentKey } from "../state.js";

export default {
  id: "graph",
  match: (parts) => parts[0] === "graph" && ["forward", "backward"].includes(parts[1]) && parts.length > 2,
  render,
};

const NAMED_KINDS = new Set(["Supplier", "Consignee", "Equipment", "Part"]); // labelled by name, not key
const MEMBERS_LISTED = 100;
const DEPTHS = ["", 1, 2, 3, 4, 5, 6, 8, 10, 15];
const GROUP_SIZES = [5, 10, 20, 50, 100, 500];

/** Trace options from the address: what the CLI's flags say, so a view can be shared. */
export function optionsFrom(params) {
  return {
    depth: params.get("depth") || undefined,
    ignoreTime: params.get("ignore_time") === "true",
    from: params.get("from") || undefined,
    to: params.get("to") || undefined,
  };
}

export function paramsOf(opts, extra = {}) {
  return { depth: opts.depth, ignore_time: opts.ignoreTime, from: opts.from, to: opts.to, ...extra };
}

async function render(main, route, { signal }) {
  const direction = route.parts[1];
  const asked = route.parts.slice(2).join("/");
  const opts = optionsFrom(route.params);
  current.direction = direction;

  main.append(h("p", { class: "muted loading" }, t("graph.tracing")));
  const [start, trace] = await Promise.all([
    api.node(asked, { signal }),
    api.trace(direction, asked, opts, { signal }),
  ]);
  setCurrentKey(start.key);
  const startKinds = new Map([[start.key, start.kind]]);
  const named = [...new Set(trace.nodes.filter((n) => NAMED_KINDS.has(n.kind)).map((n) => n.key))].slice(0, 5000);
  const labels = named.length ? await api.props(named, { signal }) : new Map();
  labels.set(start.key, start.props);
  main.replaceChildren();

  const title = t(direction === "forward" ? "graph.titleForward" : "graph.titleBackward", {
    label: shortLabel(start.key, start.props),
  });
  document.title = `${title} · TraceGraph`;
  const groups = groupsOf(trace);
  const paths = pathIndex(trace);
  const kindOf = new Map(trace.nodes.map((n) => [n.key, n.kind]));
  kindOf.set(start.key, start.kind);
  const state = { view: initialView(AGGREGATE_OVER), selected: route.params.get("sel") || null, display: null };

  // -- page ---------------------------------------------------------------------------
  const other = direction === "forward" ? "backward" : "forward";
  main.append(
    h(
      "header",
      { class: "page-head compact" },
      h("div", { class: "page-title" }, badge(start.kind), h("h1", null, title)),
      h(
        "p",
        { class: "key-line" },
        h("a", { href: href(["node", start.key]), class: "key" }, start.key),
        " · ",
        h(
          "a",
          { href: href(["graph", other, start.key], paramsOf(opts)) },
          other === "forward" ? "forward impact" : "backward genealogy",
        ),
        " · ",
        h("a", { href: href(["recall", start.key], paramsOf(opts, { direction })) }, "recall list"),
      ),
    ),
  );

  const depthSelect = selectField(
    "depth",
    t("graph.depth"),
    DEPTHS.map((d) => [String(d), d === "" ? t("graph.all") : String(d)]),
    opts.depth || "",
  );
  const ignoreTime = h("input", { type: "checkbox", id: "ignore-time", checked: opts.ignoreTime });
  const groupSize = selectField(
    "group-size",
    t("graph.groupOver"),
    GROUP_SIZES.map((n) => [String(n), String(n)]),
    String(AGGREGATE_OVER),
  );
  const levels = [...new Set([...groups.values()].map((g) => g.degree))].sort((a, b) => a - b);
  const collapseFrom = selectField(
    "collapse-from",
    t("graph.collapseFrom"),
    [["", t("graph.none")], ...levels.map((l) => [String(l), String(l)])],
    "",
  );
  const find = h("input", {
    type: "search",
    id: "find",
    placeholder: t("graph.findPlaceholder"),
    autocomplete: "off",
  });
  const kindChips = h("div", {
    class: "chips",
    role: "group",
    "aria-label": t("graph.kindChips"),
  });

  // The start window: from a machine found out of tolerance, only what it touched between two
  // calibrations. Times as typed are UTC, as everywhere in TraceGraph.
  const windowFrom = h("input", { type: "datetime-local", id: "window-from", value: localValue(opts.from) });
  const windowTo = h("input", { type: "datetime-local", id: "window-to", value: localValue(opts.to) });
  const windowForm = h(
    "details",
    { class: "window", open: opts.from || opts.to ? true : null },
    h("summary", null, t(opts.from || opts.to ? "graph.windowSet" : "graph.window")),
    h(
      "form",
      { "aria-label": t("graph.windowLabel") },
      h("label", { for: "window-from" }, t("graph.windowFrom"), " "),
      windowFrom,
      h("label", { for: "window-to" }, " ", t("graph.windowTo"), " "),
      windowTo,
      h("span", { class: "muted" }, " UTC "),
      h("button", { type: "submit" }, t("graph.apply")),
    ),
  );
  windowForm.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    reload({ from: windowFrom.value || undefined, to: windowTo.value || undefined });
  });

  const toolbar = h(
    "div",
    { class: "toolbar", role: "toolbar", "aria-label": t("graph.options") },
    h(
      "div",
      { class: "segmented", role: "group", "aria-label": t("graph.direction") },
      h(
        "a",
        {
          href: href(["graph", "forward", start.key], paramsOf(opts)),
          "aria-current": direction === "forward" ? "true" : null,
        },
        t("node.forward"),
      ),
      h(
        "a",
        {
          href: href(["graph", "backward", start.key], paramsOf(opts)),
          "aria-current": direction === "backward" ? "true" : null,
        },
        t("node.backward"),
      ),
    ),
    depthSelect.wrap,
    h(
      "label",
      {
        class: "check",
        for: "ignore-time",
        title: t("graph.ignoreTimeTitle"),
      },
      ignoreTime,
      " ",
      t("graph.ignoreTime"),
    ),
    windowForm,
    groupSize.wrap,
    collapseFrom.wrap,
    h(
      "form",
      { class: "find", role: "search", "aria-label": t("graph.findLabel") },
      h("label", { for: "find" }, t("graph.find")),
      find,
      h("button", { type: "submit" }, t("graph.find")),
    ),
  );
  const zoom = h(
    "div",
    { class: "zoom", role: "group", "aria-label": t("graph.zoom") },
    h("button", { type: "button", "data-zoom": "out", "aria-label": t("graph.zoomOut") }, "−"),
    h("button", { type: "button", "data-zoom": "in", "aria-label": t("graph.zoomIn") }, "+"),
    h("button", { type: "button", "data-zoom": "fit" }, t("graph.fit")),
    h("button", { type: "button", "data-zoom": "reset", title: t("graph.resetTitle") }, t("graph.reset")),
  );
  const summary = h("p", { class: "summary", "aria-live": "polite" });
  const notes = h("div");
  const canvasBox = h("div", { class: "canvas" }, zoom); // positioned: drawn over the graph
  const panel = h("aside", { class: "panel card", "aria-label": t("graph.selection"), "aria-live": "polite" });
  main.append(toolbar, kindChips, summary, notes, h("div", { class: "graph-layout" }, canvasBox, panel));

  if (trace.is_partial) {
    notes.append(
      notice("warn", t("graph.partial")),
    );
  }
  if (trace.truncated) {
    notes.append(
      notice(
        "warn",
        t("graph.truncated", { shown: fmtInt(trace.nodes.length), total: fmtInt(trace.total) }),
        " ",
        h(
          "a",
          { href: href(["recall", start.key], paramsOf(opts, { direction })) },
          t("graph.truncatedLink"),
        ),
      ),
    );
  }

  const canvas = createCanvas(canvasBox, {
    onSelect: (id) => choose(id), // a drawn node's id is its key; an aggregate's is "agg:…"
    onExpand: (id) => expand(groupOfId(id), EXPAND_STEP),
    onLevel: (degree) => toggleLevel(degree),
  });

  // -- behaviour ----------------------------------------------------------------------
  function groupOfId(id) {
    return groups.get(id.replace(/^agg:/, ""));
  }

  function redraw({ fit = false } = {}) {
    state.display = displayGraph(trace, groups, state.view, startKinds);
    const placed = layout(state.display.nodes, state.display.edges, { reverse: direction === "backward" });
    const collapsedLevels = new Set(
      levels.filter((l) => [...groups.values()].every((g) => g.degree !== l || shownCount(g, state.view) === 0)),
    );
    canvas.draw(state.display, placed, { labels, collapsedLevels, reverse: direction === "backward" });
    canvas.svg.dataset.total = String(trace.total);
    canvas.svg.dataset.aggregateOver = String(state.view.aggregateOver);
    canvas.svg.dataset.ready = "true";
    renderChips();
    renderSummary();
    if (fit) canvas.fit({ readable: true });
    choose(state.selected, { keepFocus: true });
  }

  function renderSummary() {
    const counts = new Map();
    for (const n of trace.nodes) counts.set(n.kind, (counts.get(n.kind) || 0) + 1);
    const parts = [...counts]
      .sort((a, b) => kindOrder(a[0]) - kindOrder(b[0]))
      .map(([k, n]) => `${fmtInt(n)} ${plural(k, n).toLowerCase()}`);
    summary.replaceChildren(
      h("strong", { "data-testid": "trace-total" }, fmtInt(trace.total)),
      ` nodes reached${opts.ignoreTime ? " (time ignored)" : ""}: ${parts.join(", ") || "none"}. `,
      h(
        "span",
        { class: "muted" },
        `${fmtInt(state.display.nodes.length)} drawn; groups of more than ${state.view.aggregateOver} are drawn as one.`,
      ),
    );
  }

  function renderChips() {
    kindChips.replaceChildren();
    const kinds = [...new Set([...groups.values()].map((g) => g.kind))].sort((a, b) => kindOrder(a) - kindOrder(b));
    for (const kind of kinds) {
      const ofKind = [...groups.values()].filter((g) => g.kind === kind);
      const total = ofKind.reduce((sum, g) => sum + g.members.length, 0);
      const collapsed = ofKind.every((g) => shownCount(g, state.view) === 0);
      const chip = h(
        "button",
        {
          type: "button",
          class: "chip",
          "aria-pressed": String(collapsed),
          style: kindStyle(kind),
          "data-kind": kind,
          title: t(collapsed ? "graph.kindExpand" : "graph.kindCollapse", { kinds: plural(kind, 2).toLowerCase() }),
        },
        `${kindName(kind)} ${fmtInt(total)}`,
        h("span", { class: "chip-state" }, collapsed ? " ▸" : " ▾"),
      );
      chip.addEventListener("click", () => toggleKind(kind, !collapsed));
      kindChips.append(chip);
    }
  }

  function toggleKind(kind, collapse) {
    for (const g of groups.values()) if (g.kind === kind) state.view.shown.delete(g.id);
    if (collapse) state.view.collapsedKinds.add(kind);
    else {
      state.view.collapsedKinds.delete(kind);
      for (const g of groups.values())
        if (g.kind === kind) state.view.shown.set(g.id, Math.min(g.members.length, EXPAND_STEP));
    }
    redraw();
  }

  function toggleLevel(degree) {
    if (degree === 0) return;
    const atLevel = [...groups.values()].filter((g) => g.degree === degree);
    const anyShown = atLevel.some((g) => shownCount(g, state.view) > 0);
    for (const g of atLevel) state.view.shown.set(g.id, anyShown ? 0 : Math.min(g.members.length, EXPAND_STEP));
    redraw();
  }

  function expand(group, step) {
    if (!group) return;
    const now = shownCount(group, state.view);
    state.view.shown.set(group.id, Math.min(group.members.length, now + step));
    // Keep the selection on what was expanded: its first newly drawn member.
    if (state.selected === `agg:${group.id}`) state.selected = group.members[now];
    redraw();
  }

  function collapse(group) {
    state.view.shown.set(group.id, 0);
    redraw();
  }

  function choose(key, { keepFocus = false } = {}) {
    if (key && !key.startsWith("agg:") && !state.display.of.has(key)) key = null; // not in this trace
    if (key && key.startsWith("agg:") && !state.display.nodes.some((n) => n.id === key)) key = null; // expanded since
    state.selected = key;
    replaceParams(paramsOf(opts, { sel: key }));
    const id = key ? (key.startsWith("agg:") ? key : state.display.of.get(key)) : null;
    const path = key && !key.startsWith("agg:") ? pathOnScreen(paths.get(key) || [key], state.display) : null;
    canvas.highlight(path, id);
    if (id && !keepFocus) canvas.reveal(id);
    renderPanel(key, id);
  }

  function renderPanel(key, id) {
    panel.replaceChildren();
    if (!key) {
      panel.append(
        h("h2", null, t("graph.selectTitle")),
        h("p", null, t("graph.selectHelp")),
        h("p", null, t("graph.groupsHelp")),
        h("p", { class: "muted" }, t("graph.keys")),
      );
      return;
    }
    if (key.startsWith("agg:"))
      return renderGroupPanel(
        groupOfId(key),
        state.display.nodes.find((n) => n.id === key),
      );
    const kind = kindOf.get(key);
    const path = paths.get(key) || [key];
    const drawnAs = state.display.nodes.find((n) => n.id === id);
    const group = drawnAs && drawnAs.gid ? groups.get(drawnAs.gid) : null;
    panel.append(
      h("div", { class: "page-title" }, badge(kind), h("h2", null, shortLabel(key, labels.get(key)))),
      h("p", null, h("code", { class: "key", "data-testid": "selected-key" }, key)),
      h(
        "p",
        { class: "muted" },
        key === start.key
          ? t("graph.theStart")
          : t(direction === "forward" ? "graph.levelDownstream" : "graph.levelUpstream", {
              level: path.length - 1,
              count: path.length - 1,
            }),
      ),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "btn", href: href(["node", key]) }, t("graph.openPage")),
        key !== start.key
          ? h("a", { class: "btn", href: href(["graph", direction, key]) }, t("graph.traceFromHere"))
          : null,
        h("a", { class: "btn", href: href(["recall", key]) }, t("node.recall")),
      ),
    );
    if (drawnAs && drawnAs.aggregate) {
      const index = group.members.indexOf(key);
      const draw = h("button", { type: "button", class: "btn-small" }, t("graph.drawIt"));
      draw.addEventListener("click", () => {
        state.view.shown.set(
          group.id,
          Math.min(group.members.length, Math.ceil((index + 1) / EXPAND_STEP) * EXPAND_STEP),
        );
        redraw();
        canvas.focusNode(key);
      });
      panel.append(
        h(
          "p",
          null,
          t("graph.drawnWithin", { group: `${drawnAs.count} ${plural(drawnAs.kind, drawnAs.count)}` }),
          " ",
          draw,
        ),
      );
    } else if (group && group.members.length > state.view.aggregateOver) {
      const fold = h(
        "button",
        { type: "button", class: "btn-small" },
        t("graph.collapseIts", { count: group.members.length, kinds: plural(group.kind, 2).toLowerCase() }),
      );
      fold.addEventListener("click", () => collapse(group));
      panel.append(h("p", null, fold));
    }
    panel.append(h("h3", null, t("graph.explainingPath")));
    panel.append(
      h(
        "ol",
        { class: "path", "data-testid": "path" },
        path.map((step) =>
          h(
            "li",
            null,
            badge(kindOf.get(step) || "Node"),
            " ",
            h(
              "button",
              { type: "button", class: "linkish", "data-key": step, onclick: () => choose(step) },
              shortLabel(step, labels.get(step)),
            ),
            h("div", { class: "key muted" }, step),
          ),
        ),
      ),
    );
  }

  function renderGroupPanel(group, drawn) {
    const shown = shownCount(group, state.view);
    panel.append(
      h(
        "div",
        { class: "page-title" },
        badge(group.kind),
        h(
          "h2",
          null,
          t(shown ? "graph.groupMore" : "graph.group", {
            count: fmtInt(drawn.count),
            kinds: plural(group.kind, drawn.count),
          }),
        ),
      ),
      h(
        "p",
        { class: "muted" },
        t("graph.groupDetail", { level: group.degree, total: fmtInt(group.members.length), shown: fmtInt(shown) }),
      ),
    );
    const actions = h("div", { class: "actions" });
    const more = h("button", { type: "button", class: "btn" }, t("graph.drawN", { count: fmtInt(Math.min(EXPAND_STEP, drawn.count)) }));
    more.addEventListener("click", () => expand(group, EXPAND_STEP));
    actions.append(more);
    if (drawn.count > EXPAND_STEP && group.members.length <= EXPAND_ALL_MAX) {
      const all = h("button", { type: "button", class: "btn" }, t("graph.drawAll", { count: fmtInt(group.members.length) }));
      all.addEventListener("click", () => expand(group, group.members.length));
      actions.append(all);
    }
    panel.append(actions, h("h3", null, drawn.count > MEMBERS_LISTED ? t("graph.firstN", { count: MEMBERS_LISTED }) : t("graph.members")));
    panel.append(
      h(
        "ul",
        { class: "plain members" },
        drawn.members
          .slice(0, MEMBERS_LISTED)
          .map((key) =>
            h(
              "li",
              null,
              h(
                "button",
                { type: "button", class: "linkish", "data-key": key, onclick: () => choose(key) },
                shortLabel(key, labels.get(key)),
              ),
              h("span", { class: "key muted" }, ` ${key}`),
            ),
          ),
      ),
    );
  }

  // -- controls -----------------------------------------------------------------------
  const reload = (changes) => go(["graph", direction, start.key], paramsOf({ ...opts, ...changes }));
  depthSelect.el.addEventListener("change", () => reload({ depth: depthSelect.el.value || undefined }));
  ignoreTime.addEventListener("change", () => reload({ ignoreTime: ignoreTime.checked }));
  groupSize.el.addEventListener("change", () => {
    state.view = { ...initialView(Number(groupSize.el.value)), collapseFrom: state.view.collapseFrom };
    redraw({ fit: true });
  });
  collapseFrom.el.addEventListener("change", () => {
    state.view.collapseFrom = collapseFrom.el.value === "" ? null : Number(collapseFrom.el.value);
    for (const g of groups.values())
      if (state.view.collapseFrom !== null && g.degree >= state.view.collapseFrom) state.view.shown.delete(g.id);
    redraw({ fit: true });
  });
  zoom.addEventListener("click", (event) => {
    const what = event.target.dataset.zoom;
    if (what === "in") canvas.zoom(1.25);
    if (what === "out") canvas.zoom(0.8);
    if (what === "fit") canvas.fit();
    if (what === "reset") {
      state.view = initialView(Number(groupSize.el.value));
      collapseFrom.el.value = "";
      redraw({ fit: true });
    }
  });
  toolbar.querySelector("form.find").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = find.value.trim();
    if (!text) return;
    const key = findLocally(text) || (await findByIdentifier(text));
    if (key) {
      choose(key);
      canvas.focusNode(state.display.of.get(key));
    } else {
      panel.replaceChildren(notice("info", `“${text}” is not in this trace.`));
    }
  });

  function findLocally(text) {
    const wanted = text.toLowerCase();
    const keys = [...paths.keys()];
    return (
      keys.find((k) => k.toLowerCase() === wanted) ||
      keys.find((k) => k.toLowerCase().endsWith(`/${wanted}`) || k.toLowerCase().endsWith(`:${wanted}`)) ||
      keys.find((k) => k.toLowerCase().includes(wanted))
    );
  }

  /** A barcode, Digital Link or EPC URN: the server knows its canonical key. */
  async function findByIdentifier(text) {
    try {
      const { hits } = await api.search(text, { first: 10 }, { signal });
      return hits.map((hit) => hit.key).find((k) => paths.has(k)) || null;
    } catch {
      return null;
    }
  }

  redraw({ fit: true });
  // Refit when the window really changes size (a rotated tablet), not when a phone's address
  // bar slides away, which also fires resize and would undo the user's zoom.
  let width = canvasBox.clientWidth;
  const onResize = () => {
    if (Math.abs(canvasBox.clientWidth - width) < 40) return;
    width = canvasBox.clientWidth;
    canvas.fit({ readable: true });
  };
  window.addEventListener("resize", onResize);
  return () => window.removeEventListener("resize", onResize);
}

/** An ISO time from the address as a datetime-local input shows it (minutes, no zone). */
function localValue(iso) {
  return iso ? iso.replace(/Z$|[+-]00:?00$/, "").slice(0, 16) : null;
}

function selectField(id, label, options, value) {
  const el = h(
    "select",
    { id },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
  );
  return { el, wrap: h("label", { class: "field", for: id }, `${label} `, el) };
}
