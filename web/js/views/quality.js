// Quality views: the supplier scorecard (sortable, graded) and the SPC control charts per
// equipment and parameter, with the broken Nelson or Western Electric run rules marked on the
// chart and listed under it. Plain SVG: the chart is small and must work offline.
//   #/quality?equipment=KEY&parameter=NAME&rules=nelson|western-electric&sort=COLUMN&desc=1
import { rest } from "../api.js";
import { clear, fmtTime, h, notice, s } from "../dom.js";
import { locale, t } from "../i18n.js";
import { go, parse, replaceParams } from "../router.js";

export default {
  id: "quality",
  match: (parts) => parts[0] === "quality",
  render,
};

const GRADES = ["A", "B", "C", "D"];
const COLUMNS = [
  // [field, message key, numeric]
  ["supplier", "quality.col.supplier", false],
  ["grade", "quality.col.grade", false],
  ["lots", "quality.col.lots", true],
  ["rejected", "quality.col.rejected", true],
  ["reject_rate", "quality.col.rejectRate", true],
  ["ewma_reject", "quality.col.ewma", true],
  ["late", "quality.col.late", true],
  ["short", "quality.col.short", true],
  ["p_value", "quality.col.pValue", true],
];

async function render(main, route, { signal }) {
  document.title = `${t("quality.title")} · TraceGraph`;
  const params = route.params;
  const rules = params.get("rules") === "western-electric" ? "western-electric" : "nelson";
  const [scores, charts] = await Promise.all([
    rest("/api/v1/suppliers/scorecard", null, { signal }),
    rest("/api/v1/spc/charts", { rules }, { signal }),
  ]);
  main.append(h("h1", null, t("quality.title")));
  main.append(scorecardSection(scores, params));
  const spc = h("section", { class: "card spc", "aria-labelledby": "h-spc" });
  main.append(spc);
  await chartSection(spc, charts, params, rules, signal);
}

// -- supplier scorecard ------------------------------------------------------------------------

function gradeRank(grade) {
  const i = GRADES.indexOf(grade);
  return i < 0 ? GRADES.length : i;
}

function sortScores(scores, column, descending) {
  const numeric = COLUMNS.find(([f]) => f === column)?.[2];
  const value = (row) =>
    column === "grade" ? gradeRank(row.grade) : column === "supplier" ? `${row.name || ""} ${row.supplier}` : row[column];
  const sorted = [...scores].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x === y) return a.supplier.localeCompare(b.supplier);
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return numeric || column === "grade" ? x - y : String(x).localeCompare(String(y), locale());
  });
  return descending ? sorted.reverse() : sorted;
}

function fmtNumber(value, digits = 0) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function scorecardSection(scores, params) {
  const section = h("section", { class: "card", "aria-labelledby": "h-scorecard" });
  section.append(
    h("h2", { id: "h-scorecard" }, t("quality.scorecard")),
    h("p", { class: "muted" }, t("quality.scorecardHelp")),
  );
  if (!scores.length) {
    section.append(notice("info", t("quality.noSuppliers")));
    return section;
  }
  let column = COLUMNS.some(([f]) => f === params.get("sort")) ? params.get("sort") : "grade";
  // Worst grade first unless the address asks for another order.
  let descending = params.get("sort") ? params.get("desc") === "1" : true;
  const head = h("tr");
  const body = h("tbody");
  const table = h(
    "table",
    { class: "data scorecard", "data-testid": "scorecard" },
    h("caption", { class: "visually-hidden" }, t("quality.scorecard")),
    h("thead", null, head),
    body,
  );
  const draw = () => {
    clear(head);
    for (const [field, key, numeric] of COLUMNS) {
      const active = field === column;
      const button = h(
        "button",
        { type: "button", class: "sort", "data-sort": field },
        t(key),
        h("span", { "aria-hidden": "true" }, active ? (descending ? " ▼" : " ▲") : ""),
      );
      button.addEventListener("click", () => {
        descending = active ? !descending : field !== "supplier";
        column = field;
        replaceParams({ ...Object.fromEntries(parse().params), sort: column, desc: descending ? "1" : null });
        draw();
        head.querySelector(`[data-sort="${field}"]`).focus();
      });
      head.append(
        h(
          "th",
          { scope: "col", class: numeric ? "num" : null, "aria-sort": active ? (descending ? "descending" : "ascending") : null },
          button,
        ),
      );
    }
    clear(body);
    for (const row of sortScores(scores, column, descending)) {
      body.append(
        h(
          "tr",
          { "data-supplier": row.supplier },
          h("th", { scope: "row" }, row.name || row.supplier, h("div", { class: "muted key" }, row.supplier)),
          h(
            "td",
            null,
            h("span", { class: `grade grade-${row.grade}`, title: t(`quality.grade.${row.grade}`) }, row.grade),
          ),
          h("td", { class: "num" }, fmtNumber(row.lots)),
          h("td", { class: "num" }, fmtNumber(row.rejected)),
          h("td", { class: "num" }, `${fmtNumber(100 * row.reject_rate, 1)} %`),
          h("td", { class: "num" }, `${fmtNumber(100 * row.ewma_reject, 1)} %`),
          h("td", { class: "num" }, row.with_delivery_data ? fmtNumber(row.late) : "—"),
          h("td", { class: "num" }, row.with_delivery_data ? fmtNumber(row.short) : "—"),
          h("td", { class: "num" }, fmtNumber(row.p_value, 3)),
        ),
      );
    }
  };
  draw();
  section.append(h("div", { class: "scroll-x" }, table), gradeLegend());
  return section;
}

function gradeLegend() {
  return h(
    "ul",
    { class: "plain legend" },
    GRADES.map((g) => h("li", null, h("span", { class: `grade grade-${g}` }, g), " ", t(`quality.grade.${g}`))),
  );
}

// -- SPC charts ----------------------------------------------------------------------------------

function chartId(c) {
  return `${c.equipment}\u0000${c.parameter}`;
}

async function chartSection(section, charts, params, rules, signal) {
  section.append(h("h2", { id: "h-spc" }, t("quality.spc")), h("p", { class: "muted" }, t("quality.spcHelp")));
  if (!charts.length) {
    section.append(notice("info", t("quality.noCharts")));
    return;
  }
  // The chart asked for, else the first with a broken rule, else the first.
  const asked = charts.find((c) => c.equipment === params.get("equipment") && c.parameter === params.get("parameter"));
  let chosen = asked || charts.find((c) => c.breaks.length) || charts[0];

  const picker = h(
    "select",
    { id: "spc-chart" },
    charts.map((c) =>
      h(
        "option",
        { value: chartId(c), selected: c === chosen },
        `${c.equipment.replace(/^equipment:/, "")} · ${c.parameter}`,
        c.breaks.length ? ` (${t("quality.breaksCount", { count: c.breaks.length })})` : "",
      ),
    ),
  );
  const ruleChoice = h(
    "select",
    { id: "spc-rules" },
    ["nelson", "western-electric"].map((r) => h("option", { value: r, selected: r === rules }, t(`quality.rules.${r}`))),
  );
  const body = h("div", { class: "spc-body", "aria-live": "polite" });
  section.append(
    h(
      "div",
      { class: "toolbar" },
      h("label", { for: "spc-chart" }, t("quality.chartOf")),
      picker,
      h("label", { for: "spc-rules" }, t("quality.rulesLabel")),
      ruleChoice,
    ),
    body,
  );

  const show = async () => {
    body.setAttribute("aria-busy", "true");
    const chart = await rest(
      "/api/v1/spc/chart",
      { equipment: chosen.equipment, parameter: chosen.parameter, rules },
      { signal },
    );
    clear(body).append(drawChart(chart), breakList(chart));
    body.setAttribute("aria-busy", "false");
  };
  picker.addEventListener("change", () => {
    chosen = charts.find((c) => chartId(c) === picker.value) || chosen;
    replaceParams({ ...Object.fromEntries(parse().params), equipment: chosen.equipment, parameter: chosen.parameter });
    show().catch(failed(body));
  });
  ruleChoice.addEventListener("change", () => {
    // Another rule system lists other breaks: reload the view through its address.
    go("quality", {
      ...Object.fromEntries(parse().params),
      equipment: chosen.equipment,
      parameter: chosen.parameter,
      rules: ruleChoice.value === "nelson" ? null : ruleChoice.value,
    });
  });
  await show();
}

function failed(body) {
  return (error) => {
    if (error.name === "AbortError") return;
    clear(body).append(notice("error", error.message));
  };
}

function ruleName(chart, rule) {
  return t(`quality.rule.${chart.rules}.${rule}`);
}

const W = 900;
const H = 320;
const M = { top: 18, right: 104, bottom: 34, left: 56 };

/** The individuals chart: centre line, ±3σ control limits (and ±1σ, ±2σ zones), specification
 * limits when known, the samples joined in time order, and each broken rule's run shaded. */
export function drawChart(chart) {
  const points = chart.points;
  const ys = [chart.lcl, chart.ucl, ...points.map((p) => p.value)];
  if (chart.lsl !== null) ys.push(chart.lsl);
  if (chart.usl !== null) ys.push(chart.usl);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const pad = (hi - lo) * 0.06 || 1;
  const y = (v) => M.top + ((hi + pad - v) / (hi - lo + 2 * pad)) * (H - M.top - M.bottom);
  const step = (W - M.left - M.right) / Math.max(1, points.length - 1);
  const x = (i) => M.left + i * step;

  const flagged = new Map(); // sample index -> rules broken there
  for (const b of chart.breaks) {
    for (let i = b.start; i <= b.end; i++) flagged.set(i, [...(flagged.get(i) || []), b.rule]);
  }

  const svg = s("svg", {
    class: "spc-chart",
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": t("quality.chartLabel", {
      parameter: chart.parameter,
      equipment: chart.equipment,
      samples: points.length,
      breaks: chart.breaks.length,
    }),
    "data-testid": "spc-chart",
  });
  for (const b of chart.breaks) {
    const x0 = x(b.start) - step / 2;
    svg.append(
      s(
        "rect",
        {
          class: "break-band",
          "data-rule": b.rule,
          "data-start": b.start,
          x: Math.max(M.left - 4, x0),
          y: M.top,
          width: Math.max(6, (b.end - b.start + 1) * step),
          height: H - M.top - M.bottom,
        },
        s("title", null, `${t("quality.ruleShort", { rule: b.rule })}: ${ruleName(chart, b.rule)}`),
      ),
      s("text", { class: "break-label", x: x(b.start), y: M.top + 12 }, t("quality.ruleShort", { rule: b.rule })),
    );
  }
  // Where one run ends and the next begins.
  for (let i = 1; i < points.length; i++) {
    if (points[i].run !== points[i - 1].run) {
      const xb = (x(i) + x(i - 1)) / 2;
      svg.append(s("line", { class: "run-boundary", x1: xb, x2: xb, y1: M.top, y2: H - M.bottom }));
    }
  }
  const hline = (value, cls, label) => {
    svg.append(s("line", { class: cls, x1: M.left, x2: W - M.right, y1: y(value), y2: y(value) }));
    if (label) svg.append(s("text", { class: `${cls}-label`, x: W - M.right + 4, y: y(value) + 4 }, label));
  };
  for (const k of [-2, -1, 1, 2]) hline(chart.center + k * chart.sigma, "zone");
  hline(chart.center, "center", `${t("quality.cl")} ${fmtNumber(chart.center, 2)}`);
  hline(chart.ucl, "limit", `${t("quality.ucl")} ${fmtNumber(chart.ucl, 2)}`);
  hline(chart.lcl, "limit", `${t("quality.lcl")} ${fmtNumber(chart.lcl, 2)}`);
  if (chart.usl !== null) hline(chart.usl, "spec", `${t("quality.usl")} ${fmtNumber(chart.usl, 2)}`);
  if (chart.lsl !== null) hline(chart.lsl, "spec", `${t("quality.lsl")} ${fmtNumber(chart.lsl, 2)}`);

  svg.append(s("line", { class: "axis", x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom }));
  svg.append(s("line", { class: "axis", x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom }));
  for (const v of [lo, (lo + hi) / 2, hi]) {
    svg.append(s("text", { class: "tick", x: M.left - 6, y: y(v) + 4, "text-anchor": "end" }, fmtNumber(v, 1)));
  }
  if (points.length) {
    svg.append(
      s("text", { class: "tick", x: M.left, y: H - 10 }, fmtTime(points[0].at)),
      s("text", { class: "tick", x: W - M.right, y: H - 10, "text-anchor": "end" }, fmtTime(points.at(-1).at)),
    );
  }
  svg.append(s("polyline", { class: "series", points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(" ") }));
  points.forEach((p, i) => {
    const rules = flagged.get(i);
    const outside = p.value > chart.ucl || p.value < chart.lcl;
    svg.append(
      s(
        "circle",
        {
          class: ["sample", rules && "violation", outside && "outside"],
          cx: x(i),
          cy: y(p.value),
          r: rules ? 4.5 : 3,
          "data-index": i,
        },
        s(
          "title",
          null,
          `#${i} ${fmtTime(p.at)} · ${fmtNumber(p.value, 2)} · ${p.run}${p.work_order ? ` · ${p.work_order}` : ""}` +
            (rules ? ` · ${rules.map((r) => t("quality.ruleShort", { rule: r })).join(", ")}` : ""),
        ),
      ),
    );
  });
  return h(
    "figure",
    { class: "spc-figure" },
    svg,
    h(
      "figcaption",
      { class: "muted" },
      t("quality.chartCaption", {
        count: chart.runs,
        samples: fmtNumber(chart.samples),
        runs: fmtNumber(chart.runs),
        sigma: fmtNumber(chart.sigma, 3),
      }),
    ),
  );
}

function breakList(chart) {
  if (!chart.breaks.length) return notice("info", t("quality.inControl"));
  return h(
    "table",
    { class: "data compact breaks", "data-testid": "spc-breaks" },
    h("caption", null, t("quality.brokenRules")),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col" }, t("quality.col.rule")),
        h("th", { scope: "col" }, t("quality.col.samples")),
        h("th", { scope: "col" }, t("quality.col.from")),
        h("th", { scope: "col" }, t("quality.col.to")),
        h("th", { scope: "col" }, t("quality.col.runs")),
      ),
    ),
    h(
      "tbody",
      null,
      chart.breaks.map((b) => {
        const runs = [...new Set(chart.points.slice(b.start, b.end + 1).map((p) => p.run))];
        return h(
          "tr",
          { "data-rule": b.rule },
          h("th", { scope: "row" }, h("strong", null, t("quality.ruleShort", { rule: b.rule })), " ", ruleName(chart, b.rule)),
          h("td", { class: "num" }, b.start === b.end ? `#${b.start}` : `#${b.start}–#${b.end}`),
          h("td", null, fmtTime(chart.points[b.start].at)),
          h("td", null, fmtTime(chart.points[b.end].at)),
          h(
            "td",
            null,
            runs.map((r, i) => [i ? ", " : "", h("a", { href: `#/node/${encodeURIComponent(r)}`, class: "key" }, r)]),
          ),
        );
      }),
    ),
  );
}
