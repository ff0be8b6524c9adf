// Hash routes, so the server needs one page and any view can be bookmarked, reloaded or shared:
//   #/                              overview
//   #/search?q=TEXT                 search results (or straight to the one match)
//   #/node/KEY                      a node's page
//   #/graph/forward|backward/KEY    the genealogy or impact graph
//   #/recall/KEY                    the recall view
// KEY is URL-encoded whole (keys hold slashes).

export function parse(hash = location.hash) {
  const text = hash.replace(/^#\/?/, "");
  const [path, search = ""] = splitOnce(text, "?");
  const parts = path.split("/").filter(Boolean).map(decode);
  return { parts, params: new URLSearchParams(search) };
}

function splitOnce(text, sep) {
  const i = text.indexOf(sep);
  return i < 0 ? [text] : [text.slice(0, i), text.slice(i + 1)];
}

function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** "#/node/KEY?x=1" from ("node", KEY) and {x: 1}; empty params are left out. */
export function href(parts, params) {
  const path = (Array.isArray(parts) ? parts : [parts]).map((p) => encodeURIComponent(p)).join("/");
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "" && value !== false) q.set(name, String(value));
  }
  const search = q.toString();
  return `#/${path}${search ? `?${search}` : ""}`;
}

export function go(parts, params) {
  location.hash = href(parts, params);
}

/** Change the address without a new history entry or a re-render (a selection, a toggle). */
export function replaceParams(params) {
  const { parts } = parse();
  history.replaceState(null, "", href(parts, params));
}
