// The gate's bundle ("./index.js") behind a counter of its calls to Durable
// Objects: the namespace it is given counts every method called on a stub,
// by name (lookup, resolve, hit, create, ...), before the call goes out. Only
// the gate's own calls count: an object calling another (a directory shard
// forwarding to a user's object) uses the real namespace. workerd has no
// counters of its own for this, so the bench runs this Worker beside the
// measured one (which runs the bundle alone) and reads GET /__bench/objects
// (?reset=1 zeroes the counts after answering).
import gate, { GatehouseSessions } from "./index.js";

export { GatehouseSessions };

let counts = {};
const wrapped = new WeakMap();

function countingStub(stub) {
  return new Proxy(
    {},
    {
      get(_, method) {
        // Not a thenable: `await stub` must not look like a call.
        if (method === "then") return undefined;
        return (...args) => {
          counts[method] = (counts[method] ?? 0) + 1;
          return stub[method](...args);
        };
      },
    },
  );
}

function countingNamespace(namespace) {
  return {
    idFromName: (name) => namespace.idFromName(name),
    idFromString: (id) => namespace.idFromString(id),
    newUniqueId: (options) => namespace.newUniqueId(options),
    get: (id, options) => countingStub(namespace.get(id, options)),
  };
}

/** One wrapped env per env object, so the gate's per-env cache (src/gate.ts) still builds it once. */
function envFor(env) {
  let counted = wrapped.get(env);
  if (!counted) {
    counted = { ...env, SESSION_OBJECTS: countingNamespace(env.SESSION_OBJECTS) };
    wrapped.set(env, counted);
  }
  return counted;
}

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__bench/objects") {
      const body = Response.json(counts);
      if (new URL(request.url).searchParams.has("reset")) counts = {};
      return body;
    }
    return gate.fetch(request, envFor(env), ctx);
  },
  scheduled(controller, env, ctx) {
    return gate.scheduled(controller, envFor(env), ctx);
  },
};
