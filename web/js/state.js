// What the views share: the key the user is looking at (the navigation links to its node,
// graph and recall views) and the recently opened nodes (kept in this browser only).

const RECENT = "tracegraph.recent";
const RECENT_MAX = 8;

// Storage may be switched off (private modes, policies): the dashboard then just forgets.
function read(storage, name) {
  try {
    return storage.getItem(name);
  } catch {
    return null;
  }
}

function write(storage, name, value) {
  try {
    storage.setItem(name, value);
  } catch {
    /* nothing to keep it in */
  }
}

export const current = { key: read(sessionStorage, "tracegraph.key"), direction: null };

export function setCurrentKey(key) {
  current.key = key;
  write(sessionStorage, "tracegraph.key", key);
}

export function recent() {
  try {
    return JSON.parse(read(localStorage, RECENT) || "[]");
  } catch {
    return [];
  }
}

export function remember(entry) {
  const list = [entry, ...recent().filter((e) => e.key !== entry.key)].slice(0, RECENT_MAX);
  write(localStorage, RECENT, JSON.stringify(list));
}
