// Boot: the search box, the navigation, keyboard shortcuts, and one view at a time in <main>.
import { clear, h, notice } from "./dom.js";
import { go, href, parse } from "./router.js";
import { NAV, VIEWS } from "./views/index.js";
import { current } from "./state.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const searchForm = document.getElementById("search");
const searchInput = document.getElementById("q");

let running = null; // the view on screen: {controller, cleanup}
let searched = false; // the view on its way was asked for by the search box

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
  renderNav(view);
  clear(main);
  main.setAttribute("aria-busy", "true");
  try {
    running.cleanup = (await view.render(main, route, { signal: controller.signal })) || null;
  } catch (error) {
    if (error.name === "AbortError") return;
    console.error(error);
    clear(main).append(notice("error", h("strong", null, "Could not show this: "), error.message));
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

function renderNav(view) {
  clear(nav);
  const list = h("ul");
  for (const item of NAV) {
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
              item.title,
            )
          : h("span", { class: "disabled", "aria-disabled": "true", title: "Search for something first" }, item.title),
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
  const t = event.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  if (t && t.isContentEditable) return;
  event.preventDefault();
  searchInput.focus();
  searchInput.select();
});

window.addEventListener("hashchange", show);
show();
