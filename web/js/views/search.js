// Search: whatever was pasted or scanned (a GS1 or HIBCC barcode string, a Digital Link, an EPC
// URN, a lot, a serial, an SSCC, a supplier code). The server turns any whole identifier into
// its node; text finds keys and names containing it. One clear match opens its page at once.
import { api } from "../api.js";
import { h, notice } from "../dom.js";
import { t } from "../i18n.js";
import { badge } from "../kinds.js";
import { href } from "../router.js";

export default {
  id: "search",
  match: (parts) => parts[0] === "search",
  render,
};

const PAGE = 25;

/**
 * The hit the user surely meant: the only one, or the only one whose key *is* the text (an
 * identifier in any form comes back as its canonical key) or ends in it ("L240122-01" is the
 * lot 01/…/10/L240122-01, not the hundred devices of that lot that merely mention it).
 */
export function exactHit(text, hits) {
  if (hits.length === 1) return hits[0];
  const wanted = text.toLowerCase();
  const exact = hits.filter((hit) => {
    const key = hit.key.toLowerCase();
    return key === wanted || key.endsWith(`/${wanted}`) || key.endsWith(`:${wanted}`);
  });
  return exact.length === 1 ? exact[0] : null;
}

async function render(main, route, { signal }) {
  const text = route.params.get("q") || "";
  const input = document.getElementById("q");
  if (input && document.activeElement !== input) input.value = text;
  main.append(h("h1", null, t("search.title")));
  if (!text) {
    main.append(notice("info", t("search.empty")));
    return;
  }
  const first = await api.search(text, { first: PAGE }, { signal });
  const meant = exactHit(text, first.hits);
  if (meant) {
    // Straight to the page, and Back returns to where the search started, not to this stop.
    location.replace(href(["node", meant.key]));
    return;
  }
  if (!first.hits.length) {
    main.append(notice("info", t("search.nothing", { text })));
    return;
  }
  const body = h("tbody");
  const table = h(
    "table",
    { class: "data", "aria-label": t("search.matches", { text }) },
    h(
      "thead",
      null,
      h("tr", null, h("th", null, t("search.kind")), h("th", null, t("search.name")), h("th", null, t("search.key"))),
    ),
    body,
  );
  main.append(h("p", { class: "muted" }, t("search.matches", { text })), table);
  const more = h("button", { type: "button" }, t("search.more"));
  let next = first.next;
  const add = (hits) => {
    for (const hit of hits) {
      body.append(
        h(
          "tr",
          null,
          h("td", null, badge(hit.kind)),
          h("td", null, hit.label),
          h("td", null, h("a", { href: href(["node", hit.key]), class: "key" }, hit.key)),
        ),
      );
    }
    more.hidden = !next;
  };
  more.addEventListener("click", async () => {
    const page = await api.search(text, { first: PAGE, after: next }, { signal });
    next = page.next;
    add(page.hits);
  });
  add(first.hits);
  main.append(more);
  const firstLink = body.querySelector("a");
  if (firstLink) firstLink.focus(); // Enter opens the best match; Tab walks the rest
}
