// The audit trail, for auditors: who did what to which subject, when, the old and new values and
// the reason; filtered by action (on the server), actor and time (on each page read); paged
// oldest first as the trail is kept; and whether the hash chain verifies.
//   #/audit?action=ACTION&actor=TEXT&from=DATETIME&to=DATETIME&after=SEQ
import { rest } from "../api.js";
import { copyButton, fmtInt, fmtTime, h, notice } from "../dom.js";
import { t } from "../i18n.js";
import { go, href, parse } from "../router.js";

export default {
  id: "audit",
  match: (parts) => parts[0] === "audit",
  render,
};

const PAGE = 50;
// The actions of schema.audit.AuditAction, for the filter.
const ACTIONS = [
  "load",
  "correction",
  "retraction",
  "alert.transition",
  "task.transition",
  "signature",
  "report.generated",
  "package.generated",
  "configuration.changed",
  "user.changed",
  "key.changed",
  "session.login",
  "session.logout",
  "session.login_failed",
  "access.denied",
];

/** The filter as it stands in the address. */
function filterOf(params) {
  return {
    action: params.get("action") || "",
    actor: params.get("actor") || "",
    from: params.get("from") || "",
    to: params.get("to") || "",
    after: Math.max(0, Number.parseInt(params.get("after") || "0", 10) || 0),
  };
}

/** Entries that pass the actor and time parts of the filter (the action was the server's). */
export function matches(entry, filter) {
  if (filter.actor && !String(entry.actor || "").toLowerCase().includes(filter.actor.toLowerCase())) return false;
  const at = Date.parse(entry.at);
  if (filter.from && !(at >= Date.parse(`${filter.from}Z`))) return false;
  if (filter.to && !(at <= Date.parse(`${filter.to}Z`))) return false;
  return true;
}

async function render(main, route, { signal }) {
  document.title = `${t("audit.title")} · TraceGraph`;
  const filter = filterOf(route.params);
  const [verification, page] = await Promise.all([
    rest("/api/v1/audit/verify", null, { signal }),
    rest("/api/v1/audit", { after: filter.after, limit: PAGE, action: filter.action }, { signal }),
  ]);
  main.append(h("h1", null, t("audit.title")), chainStatus(verification), filterForm(filter));
  if (page.scoped) main.append(notice("info", t("audit.scoped")));
  const shown = page.entries.filter((e) => matches(e, filter));
  const first = page.entries.length ? page.entries[0].seq : null;
  const last = page.entries.length ? page.entries.at(-1).seq : null;
  main.append(
    h(
      "p",
      { class: "muted", role: "status", "data-testid": "audit-range" },
      first === null
        ? t("audit.noEntries")
        : t("audit.range", { first: fmtInt(first), last: fmtInt(last), shown: fmtInt(shown.length) }),
    ),
  );
  if (shown.length) main.append(h("div", { class: "scroll-x" }, entryTable(shown)));
  const pages = pager(filter, page);
  if (pages) main.append(pages);
}

function chainStatus(v) {
  if (!v.exists) return notice("info", t("audit.chain.none"));
  const head = v.head ? v.head.hash : "";
  if (v.intact) {
    return h(
      "div",
      { class: "notice chain chain-ok", role: "status", "data-testid": "chain-status" },
      h("strong", null, t("audit.chain.intact")),
      " ",
      t("audit.chain.intactDetail", { count: v.entries, entries: fmtInt(v.entries) }),
      head ? [" ", h("span", { class: "hash" }, head.slice(0, 16)), "… ", copyButton(head, t("common.copy"))] : null,
    );
  }
  return h(
    "div",
    { class: "notice notice-error chain chain-broken", role: "alert", "data-testid": "chain-status" },
    h("strong", null, t("audit.chain.broken")),
    h(
      "ul",
      null,
      v.problems.map((p) => h("li", null, t("audit.chain.problem", { entry: p.entry, message: p.message }))),
      v.more_problems ? h("li", null, t("audit.chain.more", { count: v.more_problems })) : null,
    ),
  );
}

function filterForm(filter) {
  const field = (id, label, input) => h("div", { class: "field" }, h("label", { for: id }, label), input);
  const action = h(
    "select",
    { id: "audit-action", name: "action" },
    h("option", { value: "" }, t("audit.anyAction")),
    ACTIONS.map((a) => h("option", { value: a, selected: a === filter.action }, a)),
  );
  const actor = h("input", { id: "audit-actor", name: "actor", type: "text", value: filter.actor, spellcheck: "false" });
  const from = h("input", { id: "audit-from", name: "from", type: "datetime-local", value: filter.from });
  const to = h("input", { id: "audit-to", name: "to", type: "datetime-local", value: filter.to });
  const form = h(
    "form",
    { class: "toolbar audit-filter", "aria-label": t("audit.filter") },
    field("audit-action", t("audit.col.action"), action),
    field("audit-actor", t("audit.col.actor"), actor),
    field("audit-from", t("audit.fromUtc"), from),
    field("audit-to", t("audit.toUtc"), to),
    h("button", { type: "submit", class: "btn" }, t("audit.apply")),
    h("a", { href: "#/audit", class: "btn" }, t("audit.reset")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    // A new filter starts again from the first entry.
    go("audit", { action: action.value, actor: actor.value.trim(), from: from.value, to: to.value });
  });
  return form;
}

function value(v) {
  if (v === null || v === undefined) return h("span", { class: "muted" }, "—");
  if (typeof v !== "object") return h("code", null, String(v));
  const text = JSON.stringify(v, null, 2);
  if (text.length < 80) return h("code", null, JSON.stringify(v));
  return h("details", null, h("summary", null, t("audit.fields", { count: Object.keys(v).length })), h("pre", null, text));
}

function entryTable(entries) {
  const col = (key) => h("th", { scope: "col" }, t(key));
  return h(
    "table",
    { class: "data audit", "data-testid": "audit-entries" },
    h("caption", { class: "visually-hidden" }, t("audit.title")),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        col("audit.col.seq"),
        col("audit.col.at"),
        col("audit.col.actor"),
        col("audit.col.action"),
        col("audit.col.subject"),
        col("audit.col.old"),
        col("audit.col.new"),
        col("audit.col.reason"),
      ),
    ),
    h(
      "tbody",
      null,
      entries.map((e) =>
        h(
          "tr",
          { "data-action": e.action, "data-seq": e.seq },
          h("td", { class: "num" }, h("span", { title: `${t("audit.hash")} ${e.hash}` }, fmtInt(e.seq))),
          h("td", null, fmtTime(e.at)),
          h("td", null, e.actor),
          h("td", null, h("code", null, e.action)),
          h("td", null, h("span", { class: "key" }, e.subject)),
          h("td", null, value(e.old)),
          h("td", null, value(e.new)),
          h("td", null, e.reason || h("span", { class: "muted" }, "—")),
        ),
      ),
    ),
  );
}

function pager(filter, page) {
  const params = Object.fromEntries(parse().params);
  const nav = h("nav", { class: "actions pager", "aria-label": t("audit.pages") });
  if (filter.after > 0) {
    const { after: _after, ...rest } = params;
    nav.append(h("a", { class: "btn", href: href("audit", rest) }, t("audit.firstPage")));
  }
  if (page.next_after !== null) {
    nav.append(h("a", { class: "btn", href: href("audit", { ...params, after: page.next_after }), rel: "next" }, t("audit.nextPage")));
  }
  return nav.childElementCount ? nav : null;
}
