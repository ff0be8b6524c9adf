// The dashboard's only way to the server: REST under /api/v1 and GraphQL at /graphql, same origin.
// Errors arrive as RFC 9457 problem details (REST) or extensions.code (GraphQL); both become an
// ApiError with the server's stable code and its human sentence.
//
// Signed in (production mode), the browser holds an HttpOnly session cookie it cannot read, and
// every change (POST, PUT, PATCH, DELETE; GraphQL is POST too) must carry the session's CSRF
// token in X-CSRF-Token. The token comes with the answer to sign-in, and from GET /auth/session
// after a reload; it lives in this module's memory only. A 401 from anywhere tells the listeners
// (the login screen) that a sign-in is needed.

import { currentLanguage } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export const CSRF_HEADER = "X-CSRF-Token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Who is signed in: {principal, csrf}; undefined until asked, null when nobody is. */
let session;
let asking = null; // the GET /auth/session on its way, shared by concurrent callers
const unauthenticatedListeners = new Set();

/** Call `listener(error)` whenever the server answers 401; returns the unsubscribe function. */
export function onUnauthenticated(listener) {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

function unauthenticated(error) {
  session = null;
  for (const listener of unauthenticatedListeners) listener(error);
}

/** Path segments of a key, each URL-encoded: keys hold slashes (01/…/21/S1), and a serial's own
 * percent-escapes (GS1 Digital Link) must reach the server as they are, not decoded once too often. */
export function keyPath(key) {
  return key.split("/").map(encodeURIComponent).join("/");
}

function query(params) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "" || value === false) continue;
    for (const v of Array.isArray(value) ? value : [value]) q.append(name, v === true ? "true" : String(v));
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}

export function url(path, params) {
  return `${path}${query(params)}`;
}

async function problem(response) {
  try {
    const body = await response.json();
    return new ApiError(response.status, body.code, body.detail || body.title);
  } catch {
    return new ApiError(response.status, null, `${response.status} ${response.statusText}`);
  }
}

/**
 * One request to the API: JSON in and out, the CSRF token on changes, problem details into
 * ApiError, and a 401 announced to the listeners. `raw: true` answers the Response itself
 * (downloads). `reauthenticates: true` marks a request whose body carries a key re-entered for
 * a signature: its 401 means that key was wrong, not that the session ended.
 */
export async function request(method, path, { params, body, signal, raw = false, reauthenticates = false } = {}) {
  // The dashboard's language: the server's error messages (and documents) follow it.
  const headers = { Accept: "application/json", "Accept-Language": currentLanguage() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE_METHODS.has(method)) {
    const token = (await currentSession({ signal }))?.csrf;
    if (token) headers[CSRF_HEADER] = token;
  }
  const response = await fetch(url(path, params), {
    method,
    signal,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const error = await problem(response);
    if (response.status === 401 && !reauthenticates) unauthenticated(error);
    throw error;
  }
  return raw ? response : response.json();
}

export function rest(path, params, { signal } = {}) {
  return request("GET", path, { params, signal });
}

export async function graphql(document, variables, { signal } = {}) {
  const body = await request("POST", "/graphql", { body: { query: document, variables }, signal });
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    const error = new ApiError(first.extensions?.status || 200, first.extensions?.code, first.message);
    if (error.code === "UNAUTHENTICATED") unauthenticated(error);
    throw error;
  }
  return body.data;
}

// -- sign-in (api/auth/routes.py) ----------------------------------------------------------

function remember(answer) {
  session = { principal: answer.principal, csrf: answer.csrf_token || null };
  return session;
}

/**
 * The signed-in session ({principal, csrf}), asked of the server once per page load; null when
 * nobody is signed in (the 401 is announced). In development mode the principal is the
 * development user and there is no token: the server asks for none.
 */
export async function currentSession({ signal } = {}) {
  if (session !== undefined) return session;
  if (!asking) {
    asking = fetch("/auth/session", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(async (response) => {
        if (response.status === 401) {
          const error = await problem(response);
          unauthenticated(error);
          return null;
        }
        if (!response.ok) throw await problem(response);
        return remember(await response.json());
      })
      .finally(() => (asking = null));
  }
  const answer = await asking;
  if (signal?.aborted) throw new DOMException("aborted", "AbortError");
  return answer;
}

/** Sign in with an API key: the server sets the session cookie and answers its CSRF token. */
export async function login(key) {
  session = undefined;
  const response = await fetch("/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    credentials: "same-origin",
    body: JSON.stringify({ key }),
  });
  if (!response.ok) throw await problem(response);
  return remember(await response.json());
}

/** End this browser's session; the server clears the cookie. */
export async function logout() {
  try {
    await request("POST", "/auth/logout");
  } finally {
    session = null;
  }
}

// -- the calls the views make --------------------------------------------------------------

/** Trace options as the REST trace and export take them (the CLI's flags). */
export function traceParams(key, opts = {}) {
  return {
    start: key,
    depth: opts.depth,
    kinds: opts.kinds,
    from: opts.from,
    to: opts.to,
    ignore_time: opts.ignoreTime,
    limit: opts.limit,
  };
}

export const api = {
  stats: (o) => rest("/api/v1/stats", null, o),
  node: (key, o) => rest(`/api/v1/nodes/${keyPath(key)}`, null, o),
  trace: (direction, key, opts, o) => rest(`/api/v1/trace/${direction}`, traceParams(key, opts), o),
  exportUrl: (direction, key, opts, format) =>
    url(`/api/v1/trace/${direction}/export`, { ...traceParams(key, opts), format }),

  /** The recall scope from start keys: devices with P(affected) at or above `threshold`. */
  recallScope: (starts, { threshold, probability, carryover, from, to } = {}, o) =>
    rest("/api/v1/recall", { start: starts, threshold, probability, carryover, from, to }, o),
  alerts: (filters, o) => rest("/api/v1/alerts", filters, o),
  tasks: (filters, o) => rest("/api/v1/tasks", filters, o),
  task: (key, o) => rest(`/api/v1/tasks/${keyPath(key)}`, null, o),
  /** Move a task: `{state, fields, reason}`; 409 illegal_transition, 422 missing_field. */
  moveTask: (key, move, o) => request("POST", `/api/v1/tasks/${keyPath(key)}/move`, { body: move, ...o }),
  runAlerts: (o) => request("POST", "/api/v1/alerts/run", o),
  /** Sign a closed alert's closure: `{api_key, meaning, reason}`, the signer's own key re-entered. */
  signAlertClosure: (key, body, o) =>
    request("POST", `/api/v1/signatures/alerts/${keyPath(key)}`, { body, reauthenticates: true, ...o }),
  /** The recall report of a scope (POST /api/v1/reports/recall): the Response, a ZIP evidence
   * package or the JSON document, to save as a file. `sign`: {api_key, meaning, reason}. */
  recallReport: (body, o) =>
    request("POST", "/api/v1/reports/recall", { body, raw: true, reauthenticates: Boolean(body.sign), ...o }),

  async search(text, { first = 20, after = null } = {}, o) {
    const data = await graphql(
      `
        query Search($text: String!, $first: Int!, $after: String) {
          search(text: $text, first: $first, after: $after) {
            edges {
              node {
                key
                kind
                label
              }
            }
            pageInfo {
              hasNextPage
              endCursor
            }
          }
        }
      `,
      { text, first, after },
      o,
    );
    return {
      hits: data.search.edges.map((e) => e.node),
      next: data.search.pageInfo.hasNextPage ? data.search.pageInfo.endCursor : null,
    };
  },

  /** Properties of many nodes in one request (names for graph labels), chunked under page_max. */
  async props(keys, o) {
    const out = new Map();
    for (let i = 0; i < keys.length; i += 500) {
      const data = await graphql(
        `
          query Props($keys: [String!]!) {
            nodes(keys: $keys) {
              key
              props
            }
          }
        `,
        { keys: keys.slice(i, i + 500) },
        o,
      );
      for (const n of data.nodes) if (n) out.set(n.key, n.props);
    }
    return out;
  },

  async evidence(key, o) {
    const fact = `type at until retracted props node { key kind props }
      versions { recordedAt provenance { sourceSystem source line recordId recordHash } }`;
    const data = await graphql(
      `query Evidence($key: String!) {
        node(key: $key) { evidence {
          truncated
          inspections { ${fact} } complaints { ${fact} } changes { ${fact} } events { ${fact} }
        } }
      }`,
      { key },
      o,
    );
    return data.node ? data.node.evidence : null;
  },
};
