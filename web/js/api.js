// The dashboard's only way to the server: REST under /api/v1 and GraphQL at /graphql, same origin.
// Errors arrive as RFC 9457 problem details (REST) or extensions.code (GraphQL); both become an
// ApiError with the server's stable code and its human sentence.

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
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

export async function rest(path, params, { signal } = {}) {
  const response = await fetch(url(path, params), { signal, headers: { Accept: "application/json" } });
  if (!response.ok) throw await problem(response);
  return response.json();
}

export async function graphql(document, variables, { signal } = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    signal,
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ query: document, variables }),
  });
  if (!response.ok) throw await problem(response);
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    throw new ApiError(first.extensions?.status || 200, first.extensions?.code, first.message);
  }
  return body.data;
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
