// Sign-in for a server in production mode: the login form shown in place of any view the API
// refused with 401, and the account line in the header (who is signed in, Sign out).
// The key is sent once to POST /auth/login and never kept: the session cookie (HttpOnly) and the
// CSRF token (api.js, in memory) carry the session from then on.
import { currentSession, login, logout } from "./api.js";
import { clear, h, notice } from "./dom.js";
import { onLanguageChange, t } from "./i18n.js";

/**
 * Put the login form in `main`. `reason` is the server's sentence (why a sign-in is needed);
 * `onSignedIn()` runs after a successful sign-in, typically to show the view asked for.
 */
export function renderLogin(main, { reason, onSignedIn } = {}) {
  const existing = main.querySelector("form.login");
  if (existing) return existing; // a second 401 while the form is up changes nothing
  document.title = `${t("login.title")} · TraceGraph`;
  document.body.dataset.view = "login";
  const input = h("input", {
    id: "login-key",
    name: "key",
    type: "password",
    autocomplete: "current-password",
    spellcheck: "false",
    autocapitalize: "off",
    required: true,
    "aria-describedby": "login-help",
  });
  const status = h("div", { class: "login-status", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, t("login.title"));
  const form = h(
    "form",
    { class: "card login", "aria-labelledby": "h-login" },
    h("h1", { id: "h-login" }, t("login.title")),
    reason ? h("p", { class: "muted small" }, t("login.asked"), " ", reason) : null,
    h("label", { for: "login-key" }, t("login.key")),
    input,
    h(
      "p",
      { id: "login-help", class: "muted small" },
      t("login.help1"),
      h("code", null, "tracegraph keys create"),
      t("login.help2"),
    ),
    h("div", { class: "actions" }, submit),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return input.focus();
    submit.disabled = true;
    clear(status).append(h("p", { class: "muted" }, t("login.signingIn")));
    try {
      await login(key);
      input.value = "";
      clear(status);
      await renderAccount();
      if (onSignedIn) onSignedIn();
    } catch (error) {
      clear(status).append(notice("error", h("strong", null, t("login.failed"), " "), error.message));
      input.select();
    } finally {
      submit.disabled = false;
    }
  });
  clear(main).append(form);
  main.setAttribute("aria-busy", "false");
  input.focus();
  return form;
}

let accountBox = null;
let onSignedOut = null;

/** Give the header its account line; `signedOut()` runs after Sign out. */
export function mountAccount(header, signedOut) {
  accountBox = h("div", { id: "account", class: "account" });
  onSignedOut = signedOut;
  header.append(accountBox);
  onLanguageChange(() => renderAccount());
  return renderAccount();
}

/** Redraw the account line from the session: a name and Sign out, or nothing (development
 * mode, bearer tokens and nobody signed in have no session to end). */
export async function renderAccount() {
  if (!accountBox) return;
  let who = null;
  try {
    who = await currentSession();
  } catch {
    who = null; // the page itself says what went wrong
  }
  clear(accountBox);
  if (!who || !who.csrf) return; // only a browser session has a token, and something to end
  const roles = (who.principal.roles || []).join(", ");
  const out = h("button", { type: "button", class: "btn-small", "data-testid": "sign-out" }, t("login.signOut"));
  out.addEventListener("click", async () => {
    out.disabled = true;
    try {
      await logout();
    } catch {
      /* the session may have ended already: signed out either way */
    }
    clear(accountBox);
    if (onSignedOut) onSignedOut();
  });
  accountBox.append(
    h(
      "span",
      { class: "who", "data-testid": "signed-in-as", title: roles ? t("login.roles", { roles }) : null },
      who.principal.name,
    ),
    out,
  );
}
