// Every view of the dashboard, each its own module exporting
//   { id, match(parts) -> truthy when the route is its, render(main, route, {signal}) -> cleanup? }
// The first view is the fallback for unknown routes.
import graph from "./graph.js";
import node from "./node.js";
import overview from "./overview.js";
import recall from "./recall.js";
import search from "./search.js";
import { current } from "../state.js";

export const VIEWS = [
  overview,
  search,
  node,
  graph,
  recall,
  // ── RISK VIEWS: add here when risk/ exposes them over the API (not before) ──────────────
  // Planned, one module each beside this file, written like recall.js:
  //   scope.js      recall scope: devices over a threshold, the sensitivity table, on hand vs shipped
  //   alerts.js     alerts (watch … recall-candidate) and the tasks board
  //   suppliers.js  supplier scorecards
  //   spc.js        SPC charts of process runs with their Nelson-rule signals
  // Register the module above and give it an entry in NAV below.
];

/** The top navigation. Views about one node link to the key the user last looked at. */
export const NAV = [
  { id: "overview", title: "Overview", href: () => "#/" },
  { id: "node", title: "Node", href: (key) => key && `#/node/${encodeURIComponent(key)}` },
  {
    id: "graph",
    title: "Graph",
    href: (key) => key && `#/graph/${current.direction || "forward"}/${encodeURIComponent(key)}`,
  },
  { id: "recall", title: "Recall", href: (key) => key && `#/recall/${encodeURIComponent(key)}` },
  // RISK VIEWS: { id: "alerts", title: "Alerts", href: () => "#/alerts" }, … once they exist.
];
