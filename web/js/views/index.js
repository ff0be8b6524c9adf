// Every view of the dashboard, each its own module exporting
//   { id, match(parts) -> truthy when the route is its, render(main, route, {signal}) -> cleanup? }
// The first view is the fallback for unknown routes.
import alerts from "./alerts.js";
import audit from "./audit.js";
import graph from "./graph.js";
import node from "./node.js";
import overview from "./overview.js";
import quality from "./quality.js";
import recall from "./recall.js";
import search from "./search.js";
import { current } from "../state.js";

export const VIEWS = [
  overview,
  search,
  node,
  graph,
  recall,
  alerts,
  quality,
  audit,
];

/** The permission (api/auth/policy.py) each view's requests need; a role without it gets neither
 * the view's menu entry nor the view. The overview is everyone's: it shows the figures the role
 * may read. */
export const VIEW_PERMISSIONS = {
  overview: null,
  search: "graph:read",
  node: "graph:read",
  graph: "graph:read",
  recall: "recall",
  alerts: "alerts",
  quality: "alerts",
  audit: "audit:read",
};

/** Whether the signed-in `principal` (GET /auth/session) may use the view `id`; nobody signed
 * in may use none. */
export function allowed(id, principal) {
  const needed = VIEW_PERMISSIONS[id];
  return Boolean(principal && (!needed || (principal.permissions || []).includes(needed)));
}

/** The top navigation. Views about one node link to the key the user last looked at. Each entry's
 * label is the message `nav.<id>` (web/locales). */
export const NAV = [
  { id: "overview", href: () => "#/" },
  { id: "node", href: (key) => key && `#/node/${encodeURIComponent(key)}` },
  {
    id: "graph",
    href: (key) => key && `#/graph/${current.direction || "forward"}/${encodeURIComponent(key)}`,
  },
  { id: "recall", href: (key) => key && `#/recall/${encodeURIComponent(key)}` },
  { id: "alerts", href: () => "#/alerts" },
  { id: "quality", href: () => "#/quality" },
  { id: "audit", href: () => "#/audit" },
];
