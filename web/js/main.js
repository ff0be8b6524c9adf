// Boot: the search box, the navigation, keyboard shortcuts, and one view at a time in <main>.
import { currentSession, onUnauthenticated } from "./api.js";
import { clear, h, notice } from "./dom.js";
import { init as initLanguage, languageSwitcher, onLanguageChange, t } from "./i18n.js";
import { mountAccount, renderLogin } from "./login.js";
import { go, href, parse } from "./router.js";
import { NAV, VIEWS, allowed } from "./views/index.js";
import { current } from "./state.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const searchForm = document.getElementById("search");
const searchInput = document.getElementById("q");

let running = null; // the view on screen: {controller, cleanup}
let searched = false; // the view on its way was asked for by the search box
let principal = null; // who is signed in (GET /auth/session): the menu shows what their role may use

async function show() {
  const route = parse();
  if (running) {
    running.controller.abort(); // a slow answer for the last view must not paint over this one
    if (running.cleanup) running.cleanup();
  }
  const controller = new AbortController();
  running = { controller, cleanup: null };
  const view = VIEWS.find((v) => v.match(route.parts)) || VIEWS[0];
  document.body.dataset.view = view.id;
  if (principal) renderNav(view); // on the first load, once the session says whose menu it is
  clear(main);
  main.setAttribute("aria-busy", "true");
  try {
    // Production mode: nobody signed in sees the login form (announced by api.js), not the view.
    const session = await currentSession({ signal: controller.signal });
    principal = session?.principal || null;
    if (session === null) return signIn();
    renderNav(view);
    if (!allowed(view.id, principal)) {
      main.append(notice("info", t("nav.notAllowed"))); // an address the role cannot use
      return;
    }
    running.cleanup = (await view.render(main, route, { signal: controller.signal })) || null;
  } catch (error) {
    if (error.name === "AbortError") return;
    if (error.status === 401) return signIn(error.message);
    console.error(error);
    clear(main).append(notice("error", h("strong", null, t("error.couldNotShow"), " "), error.message));
  } finally {
    if (!controller.signal.aborted) {
      main.setAttribute("aria-busy", "false");
      renderNav(view); // the view may have learnt the current key
      // After a search the box keeps focus with its text selected: the next scan replaces it.
      // Only then: selecting while someone types would let the next key replace their text.
      if (searched && document.activeElement === searchInput) searchInput.select();
      searched = false;
    }
  }
}

/** The login form in place of the view; after sign-in, the view that was asked for. */
function signIn(reason) {
  principal = null; // nobody's menu until someone signs in
  clear(nav);
  searchForm.hidden = true;
  if (running) {
    running.controller.abort();
    if (running.cleanup) running.cleanup();
    running = null;
  }
  renderLogin(main, { reason, onSignedIn: show });
}

function renderNav(view) {
  clear(nav);
  const list = h("ul");
  searchForm.hidden = !allowed("search", principal);
  for (const item of NAV.filter((entry) => allowed(entry.id, principal))) {
    const target = item.href(current.key);
    const active = item.id === view.id;
    list.append(
      h(
        "li",
        null,
        target
          ? h(
              "a",
              { href: target, "aria-current": active ? "page" : null, class: active ? "active" : null },
              t(`nav.${item.id}`),
            )
          : h(
              "span",
              { class: "disabled", "aria-disabled": "true", title: t("nav.searchFirst") },
              t(`nav.${item.id}`),
            ),
      ),
    );
  }
  nav.append(list);
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  // Keep a scanned value exactly (GS separators included); only surrounding blanks go.
  const text = searchInput.value.replace(/^\s+|\s+$/g, "");
  if (!text) return searchInput.focus();
  searched = true;
  const target = href("search", { q: text });
  if (location.hash === target) show();
  else go("search", { q: text });
});

// "/" focuses the search from anywhere but a text field; a scanner's Enter then submits it.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const el = event.target;
  if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return;
  if (el && el.isContentEditable) return;
  event.preventDefault();
  searchInput.focus();
  searchInput.select();
});

window.addEventListener("hashchange", show);
onUnauthenticated((error) => signIn(error.message)); // a session that ended while a view was up
// The messages first (the saved language, else the browser's, else English), then the view.
initLanguage()
  .catch((error) => console.error(error))
  .finally(() => {
    mountAccount(document.querySelector("header.top"), () => signIn());
    document.querySelector("header.top").append(languageSwitcher(h));
    onLanguageChange(show); // the view on screen again, in the new language
    show();
  });
