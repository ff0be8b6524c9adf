// Alerts and tasks: the open alerts in one column per grade (recall candidates first), each with
// its due-time countdown and the task it opened. A task moves open → investigating → action →
// verification → closed; each step asks for the fields the server requires (risk/alerts.py
// TRANSITIONS), and the server's refusal, if any, is shown as it words it. Every move is recorded
// in the task's history and the audit trail under the name of whoever is signed in.
import { api, currentSession } from "../api.js";
import { clear, fmtInt, fmtTime, h, notice } from "../dom.js";
import { t } from "../i18n.js";
import { href } from "../router.js";

export default {
  id: "alerts",
  match: (parts) => parts[0] === "alerts",
  render,
};

/** Grades, most urgent first: the board's columns (titled by the messages grade.<id>). */
export const GRADES = [{ id: "recall-candidate" }, { id: "critical" }, { id: "warning" }, { id: "watch" }];

export const TASK_STATES = ["open", "investigating", "action", "verification", "closed"];

/** The moves a task may make from each state and the fields each needs: the server's table
 * (risk/alerts.py TRANSITIONS), which a browser test keeps equal to this one. */
export const MOVES = {
  open: [{ to: "investigating", fields: [] }],
  investigating: [
    { to: "action", fields: ["root_cause", "action"] },
    { to: "closed", fields: ["root_cause", "justification"] },
  ],
  action: [{ to: "verification", fields: ["disposition"] }],
  verification: [
    { to: "action", fields: ["effectiveness_check"] },
    { to: "closed", fields: ["effectiveness_check"] },
  ],
  closed: [],
};

/** How each field is asked for (labelled by the message alerts.field.<name>). `action` chooses
 * the record the investigation opens. */
const FIELDS = {
  root_cause: { long: true },
  action: { choices: ["capa", "nonconformance", "change_request"] },
  justification: { long: true },
  disposition: { long: true },
  effectiveness_check: { long: true },
};

function fieldLabel(name) {
  return name in FIELDS ? t(`alerts.field.${name}`) : name;
}

/** What the button of a move to `state` says (alerts.move.<state>). */
function moveLabel(state) {
  return MOVES_TO.has(state) ? t(`alerts.move.${state}`) : state;
}
const MOVES_TO = new Set(["investigating", "action", "verification", "closed"]);

const TICK_MS = 30_000; // countdowns are in minutes: a refresh twice a minute is plenty

async function render(main, route, { signal }) {
  document.title = `${t("alerts.title")} · TraceGraph`;
  const showClosed = route.params.get("closed") === "true";
  const board = h("div", { class: "board", "data-testid": "board" });
  const status = h("div", { class: "board-status", "aria-live": "polite" });
  const closedToggle = h("input", { id: "show-closed", type: "checkbox", checked: showClosed || null });
  const run = h("button", { type: "button", class: "btn" }, t("alerts.run"));

  main.append(
    h(
      "header",
      { class: "page-head compact" },
      h("h1", null, t("alerts.title")),
      h(
        "div",
        { class: "toolbar" },
        h("label", { class: "check", for: "show-closed" }, closedToggle, " ", t("alerts.showClosed")),
        run,
      ),
    ),
    status,
    board,
  );

  const who = await currentSession({ signal });
  const actor = who?.principal?.name || null;

  async function refresh() {
    const [alerts, tasks] = await Promise.all([
      api.alerts(closedToggle.checked ? null : { state: "open" }, { signal }),
      api.tasks(null, { signal }),
    ]);
    drawBoard(board, alerts, new Map(tasks.map((t) => [t.key, t])), { actor, refresh, signal });
    tick();
  }

  closedToggle.addEventListener("change", () => {
    history.replaceState(null, "", href("alerts", { closed: closedToggle.checked }));
    refresh().catch((error) => showError(status, error));
  });
  run.addEventListener("click", async () => {
    run.disabled = true;
    clear(status);
    try {
      const result = await api.runAlerts({ signal });
      status.append(
        notice(
          "info",
          t("alerts.evaluated", {
            signals: fmtInt(result.signals),
            opened: fmtInt(result.opened.length),
            escalated: fmtInt(result.escalated.length),
            unchanged: fmtInt(result.unchanged),
          }),
        ),
      );
      await refresh();
    } catch (error) {
      showError(status, error);
    } finally {
      run.disabled = false;
    }
  });

  await refresh();
  const timer = setInterval(tick, TICK_MS);
  return () => clearInterval(timer);
}

function showError(where, error) {
  if (error.name === "AbortError") return;
  clear(where).append(
    notice("error", h("strong", null, t("alerts.refused"), " "), error.message, error.code ? ` (${error.code})` : ""),
  );
}

function drawBoard(board, alerts, tasks, ctx) {
  clear(board);
  for (const grade of GRADES) {
    const mine = alerts
      .filter((a) => a.grade === grade.id)
      .sort((a, b) => (a.state === b.state ? due(a) - due(b) : a.state === "open" ? -1 : 1));
    const headingId = `h-grade-${grade.id}`;
    board.append(
      h(
        "section",
        { class: `column grade-${grade.id}`, "aria-labelledby": headingId, "data-grade": grade.id },
        h("h2", { id: headingId }, t(`grade.${grade.id}`), " ", h("span", { class: "count" }, fmtInt(mine.length))),
        mine.length
          ? h(
              "ol",
              { class: "plain cards-list" },
              mine.map((a) => h("li", null, alertCard(a, tasks, ctx))),
            )
          : h("p", { class: "muted small" }, t("node.none")),
      ),
    );
  }
}

function due(alert) {
  return alert.due_at ? Date.parse(alert.due_at) : Infinity;
}

function alertCard(alert, tasks, ctx) {
  const task = alert.tasks.map((k) => tasks.get(k)).find(Boolean) || null;
  const titleId = `t-${cssId(alert.key)}`;
  const card = h(
    "article",
    { class: `alert-card state-${alert.state}`, "aria-labelledby": titleId, "data-key": alert.key },
    h("h3", { id: titleId }, alert.title),
    h("p", { class: "small" }, alert.summary),
    h(
      "dl",
      { class: "facts-inline small" },
      h("dt", null, t("alerts.about")),
      h("dd", null, h("a", { href: href(["node", alert.node]), class: "key" }, alert.node)),
      h("dt", null, t("alerts.owner")),
      h("dd", null, alert.owner || alert.owner_role),
      h("dt", null, t(alert.state === "open" ? "alerts.due" : "alerts.state")),
      h("dd", null, alert.state === "open" ? countdown(alert.due_at) : t("alerts.state.closed")),
    ),
  );
  if (task) card.append(taskBlock(task, ctx));
  else if (alert.tasks.length) card.append(h("p", { class: "muted small" }, t("alerts.taskNotListed")));
  if (alert.state === "closed") card.append(signBlock(alert, ctx));
  return card;
}

/** "Due in 3 h 20 min" / "Overdue by 2 d 4 h", kept current by tick(). */
export function countdown(iso) {
  if (!iso) return h("span", { class: "muted" }, t("alerts.noDue"));
  return h("time", { class: "countdown", datetime: iso, title: fmtTime(iso), "data-testid": "due" });
}

/** Write every countdown on screen for the time now. */
export function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll("time.countdown")) {
    const left = Date.parse(el.getAttribute("datetime")) - now;
    el.textContent = t(left >= 0 ? "alerts.dueIn" : "alerts.overdueBy", { span: span(Math.abs(left)) });
    el.classList.toggle("overdue", left < 0);
    el.classList.toggle("soon", left >= 0 && left < 4 * 3600_000);
  }
}

function span(ms) {
  const minutes = Math.floor(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const hrs = Math.floor((minutes % 1440) / 60);
  const min = minutes % 60;
  if (d) return t("alerts.span.dh", { d, h: hrs });
  if (hrs) return t("alerts.span.hm", { h: hrs, min });
  return t("alerts.span.m", { min });
}

function taskBlock(task, ctx) {
  const block = h(
    "div",
    { class: "task", "data-task": task.key, "data-state": task.state },
    h("h4", { class: "visually-hidden" }, t("alerts.task")),
    h(
      "ol",
      { class: "steps", "aria-label": t("alerts.taskState", { state: t(`alerts.state.${task.state}`) }) },
      TASK_STATES.map((st, i) =>
        h(
          "li",
          {
            class: st === task.state ? "current" : i < TASK_STATES.indexOf(task.state) ? "done" : null,
            "aria-current": st === task.state ? "step" : null,
            "data-state": st,
          },
          t(`alerts.state.${st}`),
        ),
      ),
    ),
    h(
      "p",
      { class: "small" },
      t("alerts.assignedTo"),
      " ",
      h("strong", null, task.assignee || task.role),
    ),
  );
  const given = Object.entries(task.fields || {}).filter(([, v]) => v !== null && v !== "");
  if (given.length) {
    block.append(
      h(
        "dl",
        { class: "facts-stacked small" },
        given.map(([name, value]) => [h("dt", null, fieldLabel(name)), h("dd", null, String(value))]),
      ),
    );
  }
  if (task.records?.length) {
    block.append(
      h(
        "p",
        { class: "small" },
        t("alerts.records"),
        " ",
        task.records.map((r, i) => [i ? ", " : "", h("a", { href: href(["node", r]), class: "key" }, r)]),
      ),
    );
  }
  const moves = MOVES[task.state] || [];
  if (moves.length) {
    const area = h("div", { class: "move-area" });
    const buttons = h(
      "div",
      { class: "actions" },
      moves.map((move) => {
        const btn = h(
          "button",
          { type: "button", class: "btn btn-small", "data-move": move.to },
          `${moveLabel(move.to)} →`,
        );
        btn.addEventListener("click", () => {
          const close = () => {
            clear(area);
            btn.focus(); // back where the keyboard was before the form opened
          };
          clear(area).append(moveForm(task, move, ctx, close));
          area.querySelector("textarea, select, input, button[type=submit]")?.focus();
        });
        return btn;
      }),
    );
    block.append(buttons, area);
  }
  if (task.history?.length) {
    block.append(
      h(
        "details",
        { class: "history small" },
        h("summary", null, t("alerts.history", { count: task.history.length })),
        h(
          "ol",
          null,
          task.history.map((c) =>
            h("li", null, `${fmtTime(c.at)} · ${c.by} · ${c.state}`, c.reason ? ` · ${c.reason}` : ""),
          ),
        ),
      ),
    );
  }
  return block;
}

function moveForm(task, move, ctx, close) {
  const base = `mv-${cssId(task.key)}-${move.to}`;
  const inputs = new Map();
  const rows = move.fields.map((name) => {
    const spec = FIELDS[name] || {};
    const id = `${base}-${name}`;
    let input;
    if (spec.choices) {
      input = h(
        "select",
        { id, name, required: true },
        h("option", { value: "" }, t("alerts.choose")),
        spec.choices.map((value) => h("option", { value }, t(`alerts.choice.${value}`))),
      );
    } else if (spec.long) {
      input = h("textarea", { id, name, rows: 2, required: true });
    } else {
      input = h("input", { id, name, type: "text", required: true });
    }
    inputs.set(name, input);
    return h(
      "div",
      { class: "field" },
      h("label", { for: id }, fieldLabel(name), h("span", { class: "req" }, " ", t("alerts.required"))),
      input,
    );
  });
  const reason = h("input", { id: `${base}-reason`, name: "reason", type: "text" });
  const errors = h("div", { class: "form-errors" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, moveLabel(move.to));
  const cancel = h("button", { type: "button", class: "btn" }, t("alerts.cancel"));
  cancel.addEventListener("click", close);
  const form = h(
    "form",
    {
      class: "move-form",
      "aria-label": t("alerts.moveLabel", { task: task.title, state: t(`alerts.state.${move.to}`) }),
      "data-to": move.to,
    },
    rows,
    h("div", { class: "field" }, h("label", { for: `${base}-reason` }, t("alerts.reasonOptional")), reason),
    h(
      "p",
      { class: "muted small" },
      ctx.actor ? [t("alerts.recordedAs"), " ", h("strong", null, ctx.actor), " "] : null,
      t("alerts.recordedWhere"),
    ),
    errors,
    h("div", { class: "actions" }, submit, cancel),
  );
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    clear(errors);
    const fields = {};
    for (const [name, input] of inputs) fields[name] = input.value;
    try {
      const asked = { state: move.to, fields, reason: reason.value.trim() || null };
      await api.moveTask(task.key, asked, { signal: ctx.signal });
      await ctx.refresh();
      document.querySelector(`[data-task="${CSS.escape(task.key)}"] .steps`)?.setAttribute("tabindex", "-1");
      document.querySelector(`[data-task="${CSS.escape(task.key)}"] .steps`)?.focus();
    } catch (error) {
      showError(errors, error);
      submit.disabled = false;
      errors.querySelector("[role=alert]")?.setAttribute("tabindex", "-1");
    }
  });
  return form;
}

const MEANINGS = ["approval", "review", "responsibility"]; // labelled by alerts.meaning.<value>

/** An electronic signature on a closed alert's closure: the signer re-enters their own API key
 * (re-authentication), says what the signature means and why; the audit trail keeps it. */
function signBlock(alert, ctx) {
  const area = h("div", { class: "sign-area" });
  const open = h(
    "button",
    { type: "button", class: "btn btn-small", "data-testid": "sign-closure" },
    t("alerts.sign"),
  );
  const close = () => {
    clear(area);
    open.focus();
  };
  open.addEventListener("click", () => {
    clear(area).append(signForm(alert, ctx, close));
    area.querySelector("input")?.focus();
  });
  return h("div", { class: "signing" }, h("div", { class: "actions" }, open), area);
}

function signForm(alert, ctx, close) {
  const base = `sg-${cssId(alert.key)}`;
  const key = h("input", { id: `${base}-key`, name: "api_key", type: "password", required: true, autocomplete: "off" });
  const meaning = h(
    "select",
    { id: `${base}-meaning`, name: "meaning" },
    MEANINGS.map((value) => h("option", { value }, t(`alerts.meaning.${value}`))),
  );
  const reason = h("input", { id: `${base}-reason`, name: "reason", type: "text", required: true });
  const result = h("div", { class: "form-errors", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, t("alerts.signButton"));
  const cancel = h("button", { type: "button", class: "btn" }, t("alerts.cancel"));
  cancel.addEventListener("click", close);
  const form = h(
    "form",
    { class: "move-form sign-form", "aria-label": t("alerts.signLabel", { alert: alert.title }) },
    h("div", { class: "field" }, h("label", { for: key.id }, t("alerts.signKey")), key),
    h("div", { class: "field" }, h("label", { for: meaning.id }, t("alerts.signMeaning")), meaning),
    h("div", { class: "field" }, h("label", { for: reason.id }, t("alerts.signReason")), reason),
    h(
      "p",
      { class: "muted small" },
      ctx.actor ? [t("alerts.signedAs"), " ", h("strong", null, ctx.actor), " "] : null,
      t("alerts.signHelp"),
    ),
    result,
    h("div", { class: "actions" }, submit, cancel),
  );
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    clear(result);
    try {
      const answer = await api.signAlertClosure(
        alert.key,
        { api_key: key.value, meaning: meaning.value, reason: reason.value },
        { signal: ctx.signal },
      );
      const sig = answer.signature;
      form.replaceWith(
        notice(
          "info",
          h("strong", null, t("alerts.signed")),
          " ",
          t("alerts.signedDetail", {
            name: sig.printed_name,
            meaning: t(`alerts.meaning.${sig.meaning}`),
            at: fmtTime(sig.signed_at),
            reason: sig.reason,
          }),
          " · ",
          h("code", { "data-testid": "signature-id" }, sig.id),
        ),
      );
    } catch (error) {
      key.value = "";
      showError(result, error);
      submit.disabled = false;
    }
  });
  return form;
}

/** A key as an id fragment: letters, digits and dashes. */
function cssId(key) {
  return key.replace(/[^A-Za-z0-9]+/g, "-");
}
