// An in-memory KV namespace for the benchmark, as a worker service inside the
// same workerd process as the gate. workerd turns every call on a
// `kvNamespace` binding into an HTTP request to the service it names (the
// protocol miniflare's KV implements): GET /<key>?urlencoded=true, PUT /<key>
// (expiration_ttl / expiration), DELETE /<key>, GET /?prefix=&cursor=&key_count_limit=,
// POST /bulk/get (kv.get([keys])).
// It counts every operation, so the bench can report KV calls per request:
// GET /__bench/stats (add ?reset=1 to zero the counters). The key
// "__bench/stats" is not one the gate ever writes.
// A list by a prefix that ends in ":" (the gate's user index, `usr:<hash>:`)
// reads only the keys under it: a namespace that the login arm fills with
// thousands of sessions must not make every later list cost more, since this
// Worker's CPU is counted with the gate's.
const data = new Map(); // key → { value: ArrayBuffer, expiration?: seconds, metadata?: string }
const byPrefix = new Map(); // every prefix of a key that ends in ":" → Set of keys
let counts = { get: 0, put: 0, delete: 0, list: 0 };

function* prefixesOf(key) {
  for (let at = key.indexOf(":"); at !== -1; at = key.indexOf(":", at + 1)) yield key.slice(0, at + 1);
}

function index(key) {
  for (const prefix of prefixesOf(key)) {
    if (!byPrefix.has(prefix)) byPrefix.set(prefix, new Set());
    byPrefix.get(prefix).add(key);
  }
}

function unindex(key) {
  for (const prefix of prefixesOf(key)) byPrefix.get(prefix)?.delete(key);
}

/** The names a list by `prefix` may match: its indexed keys, or every key for any other prefix. */
const candidates = (prefix) => (prefix.endsWith(":") ? [...(byPrefix.get(prefix) ?? [])] : [...data.keys()]);

const nowSeconds = () => Date.now() / 1000;
const live = (entry) => entry !== undefined && (entry.expiration === undefined || entry.expiration > nowSeconds());

function keyOf(url) {
  const raw = url.pathname.slice(1);
  return url.searchParams.get("urlencoded") === "true" ? decodeURIComponent(raw) : raw;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/stats") {
      const body = Response.json({ ...counts, keys: data.size });
      if (url.searchParams.has("reset")) counts = { get: 0, put: 0, delete: 0, list: 0 };
      return body;
    }
    if (request.method === "POST" && url.pathname === "/bulk/get") {
      // kv.get([keys]): one call, a JSON object of key → value (text or parsed JSON) or null.
      counts.get++;
      const { keys, type } = await request.json();
      const values = {};
      for (const name of keys) {
        const entry = data.get(name);
        const text = live(entry) ? new TextDecoder().decode(entry.value) : null;
        values[name] = text !== null && type === "json" ? JSON.parse(text) : text;
      }
      return Response.json(values);
    }
    const key = keyOf(url);
    switch (request.method) {
      case "GET": {
        if (key === "") {
          counts.list++;
          const prefix = url.searchParams.get("prefix") ?? "";
          const limit = Number(url.searchParams.get("key_count_limit") ?? 1000);
          const keys = candidates(prefix)
            .map((name) => [name, data.get(name)])
            .filter(([name, entry]) => name.startsWith(prefix) && live(entry))
            .map(([name, entry]) => ({ name, expiration: entry.expiration, metadata: entry.metadata }))
            .sort((a, b) => (a.name < b.name ? -1 : 1))
            .slice(0, limit);
          return Response.json({ keys, list_complete: true, cacheStatus: null });
        }
        counts.get++;
        const entry = data.get(key);
        if (!live(entry)) return new Response("Not Found", { status: 404 });
        const headers = new Headers();
        if (entry.expiration !== undefined) headers.set("CF-Expiration", String(Math.floor(entry.expiration)));
        if (entry.metadata !== undefined) headers.set("CF-KV-Metadata", entry.metadata);
        return new Response(entry.value, { headers });
      }
      case "PUT": {
        counts.put++;
        const ttl = url.searchParams.get("expiration_ttl");
        const at = url.searchParams.get("expiration");
        const expiration = ttl !== null ? nowSeconds() + Number(ttl) : at !== null ? Number(at) : undefined;
        const metadata = request.headers.get("CF-KV-Metadata") ?? undefined;
        data.set(key, { value: await request.arrayBuffer(), expiration, metadata });
        index(key);
        return new Response(null);
      }
      case "DELETE":
        counts.delete++;
        data.delete(key);
        unindex(key);
        return new Response(null);
      default:
        return new Response("Method Not Allowed", { status: 405 });
    }
  },
};
