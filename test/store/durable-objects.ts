import { env, runInDurableObject } from "cloudflare:test";
import { ENTRY, OBJECT } from "../../src/store/durable-layout";
import type { GatehouseSessions } from "../../src/store/durable-object";

type Namespace = DurableObjectNamespace<GatehouseSessions>;
type Stub = DurableObjectStub<GatehouseSessions>;

/** The real namespace of wrangler.toml's `SESSION_OBJECTS`. */
export const objects: Namespace = env.SESSION_OBJECTS;

/** The object of a name, or of an id's text. */
export const byName = (name: string): Stub => objects.get(objects.idFromName(name));
export const byId = (id: string): Stub => objects.get(objects.idFromString(id));

/** Runs SQL inside an object, as its own code would (cloudflare:test `runInDurableObject`). */
export function inObject<T>(stub: Stub, work: (sql: SqlStorage, state: DurableObjectState) => T | Promise<T>): Promise<T> {
  return runInDurableObject(stub, (_instance, state) => work(state.storage.sql, state));
}

/** Runs `work` with the object's own instance, inside its context: its methods called directly, as its own events would. */
export function withInstance<T>(stub: Stub, work: (instance: GatehouseSessions) => T | Promise<T>): Promise<T> {
  return runInDurableObject(stub, (instance) => work(instance as GatehouseSessions));
}

/** Rows of a query inside an object. */
export const rowsIn = (stub: Stub, query: string, ...bindings: unknown[]) => inObject(stub, (sql) => sql.exec(query, ...bindings).toArray());

/** The tables an object has (the runtime's own `_cf_` ones left out): none for an object that never stored anything, or that freed itself. */
export const tablesOf = async (stub: Stub) =>
  (await rowsIn(stub, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")).map((row) => row.name).sort();

/** The user object of `sub`. */
export const userObject = async (sub: string) => byName(await OBJECT.user(sub));

/** The user object that owns `sid`, found through its directory shard as `get(sid)` does. */
export async function ownerOfSid(sid: string): Promise<Stub> {
  const [row] = await rowsIn(byName(await OBJECT.shardOf(ENTRY.sid(sid))), "SELECT value FROM entries WHERE key = ?", ENTRY.sid(sid));
  if (!row) throw new Error(`no directory entry for sid ${sid}`);
  return byId(String(row.value));
}

/** Hashes of every token a user object holds for `sid`. */
export async function storedTokens(sub: string, sid: string): Promise<string[]> {
  return (await rowsIn(await userObject(sub), "SELECT hash FROM tokens WHERE sid = ?", sid)).map((row) => String(row.hash));
}

/** An error shaped as the runtime's for a stub call: `overloaded`, `retryable`, `remote` set as workerd sets them. */
export function objectError(message: string, flags: { overloaded?: boolean; retryable?: boolean } = {}): Error {
  return Object.assign(new Error(message), { remote: true, ...flags });
}

/** A call through a wrapped namespace: which object (by role prefix of its name) and which method. */
export interface ObjectCall {
  role: string;
  method: string;
  phase: "start" | "end";
}

/**
 * The real namespace, but every stub method call goes through `around`,
 * which may record it, fail it, or pass it on. Calls made by the objects
 * among themselves (directory writes, forwarding) use their own binding and
 * are not seen: what this sees is what the Worker sends.
 */
export function wrappedNamespace(around: (call: { role: string; method: string }, send: () => Promise<unknown>) => Promise<unknown>): Namespace {
  const names = new Map<string, string>();
  // Only user objects are addressed by id (the owner a directory entry names).
  const roleOf = (id: DurableObjectId) => (names.get(id.toString()) ?? "usr").split(":")[0];
  const stubOf = (id: DurableObjectId) => {
    const real = objects.get(id) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    // Not thenable: a stub handed through an async function must not be taken for a promise.
    const method =
      (name: string) =>
      (...args: unknown[]) =>
        around({ role: roleOf(id), method: name }, () => real[name](...args));
    return new Proxy({}, { get: (_t, name: string) => (name === "then" ? undefined : method(name)) });
  };
  return {
    idFromName: (name: string) => {
      const id = objects.idFromName(name);
      names.set(id.toString(), name);
      return id;
    },
    idFromString: (text: string) => objects.idFromString(text),
    get: (id: DurableObjectId) => stubOf(id),
  } as unknown as Namespace;
}

/** A namespace that records every call the Worker makes, with when it started and ended. */
export function countingNamespace() {
  const calls: ObjectCall[] = [];
  const namespace = wrappedNamespace(async (call, send) => {
    calls.push({ ...call, phase: "start" });
    try {
      return await send();
    } finally {
      calls.push({ ...call, phase: "end" });
    }
  });
  /** Calls started, as `role.method`. */
  const started = () => calls.filter((c) => c.phase === "start").map((c) => `${c.role}.${c.method}`);
  return { namespace, calls, started, reset: () => void calls.splice(0) };
}
