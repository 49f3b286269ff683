import { DurableObject } from "cloudflare:workers";
import { ENTRY, OBJECT } from "./durable-layout";
import { type Found, type RevokeItem, type SessionWrite, createUserRows } from "./durable-sessions";
import { createEntryRows } from "./durable-entries";
import { createSweeper, createTables } from "./durable-tables";
import { type Hit, createWindowRows } from "./durable-window";

/** The bindings a `GatehouseSessions` object uses: its own namespace, to reach the other objects. */
export interface DurableEnv {
  SESSION_OBJECTS: DurableObjectNamespace<GatehouseSessions>;
}

/** The namespace of the class, as bindings give it: typed (with the class) or not (config/types.ts). */
export type SessionObjects = DurableObjectNamespace<GatehouseSessions> | DurableObjectNamespace;

/** What a directory shard answers for a token: the user object that owns it, and what that object found. */
export interface Resolved {
  owner: string;
  found: Found | null;
}

/**
 * The Durable Object class of `SESSION_STORE = "durable"` (binding
 * `SESSION_OBJECTS`, SQLite-backed: wrangler.toml `new_sqlite_classes`). One
 * class, several roles by name (store/durable-layout.ts): a user's object, a
 * directory shard, the keyset object, a limiter. Its public methods are its
 * RPC interface; store/durable.ts and ratelimit/durable.ts are its callers.
 * docs/storage-schema.md explains the layout and why it is correct.
 *
 * Every method but `create`, `rotate`, `resolve` and `resolveSession` is
 * synchronous, so it runs alone: an object delivers no other event while one
 * runs. Those four await another object and re-check what they rely on after it.
 */
export class GatehouseSessions extends DurableObject<DurableEnv> {
  readonly #tables = createTables(this.ctx.storage.sql);
  readonly #sweeper = createSweeper(this.ctx, this.#tables, Date.now);
  readonly #rows = {
    sql: this.ctx.storage.sql,
    tables: this.#tables,
    transaction: <T>(work: () => T) => this.ctx.storage.transactionSync(work),
    schedule: this.#sweeper.schedule,
    now: Date.now,
  };
  readonly #user = createUserRows(this.#rows);
  readonly #entries = createEntryRows(this.#rows);
  readonly #window = createWindowRows(this.#rows);

  constructor(ctx: DurableObjectState, env: DurableEnv) {
    super(ctx, env);
    // Nothing is served before the schema and the alarm are known.
    void ctx.blockConcurrencyWhile(async () => {
      this.#tables.load();
      await this.#sweeper.load();
    });
  }

  /** User object: a token's pointer, session and revocation, or `null`. The hot path. */
  lookup(tokenHash: string): Found | null {
    return this.#user.lookup(tokenHash);
  }

  /** User object: a session's record text. */
  session(sid: string): string | null {
    return this.#user.session(sid);
  }

  /** User object: every live session's record text. */
  list(): string[] {
    return this.#user.list();
  }

  /**
   * User object: a new session. The directory learns its token and sid first,
   * so that once this resolves any isolate can find them; a failure leaves at
   * most an entry pointing at a session that does not exist (read as unknown).
   */
  async create(write: SessionWrite): Promise<void> {
    await Promise.all([this.#link(OBJECT.tokenShard(write.tokenHash), ENTRY.token(write.tokenHash), write.ttl), this.#linkSid(write)]);
    this.#user.create(write);
  }

  /**
   * User object: rotation as a compare-and-set on the generation. `false` when
   * the session was revoked, ended or moved on. The new token's directory entry
   * is written before the session names it, and the compare is made again after
   * that write, since a revocation or a racing rotation may have landed meanwhile.
   */
  async rotate(write: SessionWrite): Promise<boolean> {
    if (this.#user.standing(write) !== "write") return this.#user.standing(write) === "done";
    await this.#link(OBJECT.tokenShard(write.tokenHash), ENTRY.token(write.tokenHash), write.ttl);
    const standing = this.#user.standing(write);
    if (standing === "write") this.#user.rotate(write);
    return standing !== "refused";
  }

  /** User object: a touch, only of a live session of the same generation. */
  update(write: SessionWrite): void {
    this.#user.update(write);
  }

  /** User object: revokes sessions, all in one transaction (logout everywhere is one call). */
  revoke(items: RevokeItem[]): void {
    this.#user.revoke(items);
  }

  /** Directory shard: forwards a token's look-up to its user object, so that an isolate that does not know the owner still makes one call. */
  async resolve(tokenHash: string): Promise<Resolved | null> {
    const owner = this.#entries.read(ENTRY.token(tokenHash));
    return owner === null ? null : { owner, found: await this.#byId(owner).lookup(tokenHash) };
  }

  /** Directory shard: forwards `get(sid)` to the session's user object. */
  async resolveSession(sid: string): Promise<string | null> {
    const owner = this.#entries.read(ENTRY.sid(sid));
    return owner === null ? null : this.#byId(owner).session(sid);
  }

  /** Directory shard or keyset object: writes an entry for `ttl` ms (`null`: for ever). */
  put(key: string, value: string, ttl: number | null): void {
    this.#entries.put(key, value, ttl);
  }

  /** Directory shard or keyset object: an entry's value, or `null`. */
  read(key: string): string | null {
    return this.#entries.read(key);
  }

  /** Directory shard: a single-use marker; `true` when this call wrote it. */
  claim(key: string, ttl: number): boolean {
    return this.#entries.claim(key, ttl);
  }

  /** Limiter object: counts one request against `limit` per `period` ms, the window timed on the caller's clock `at`. */
  hit(limit: number, period: number, at: number): Hit {
    return this.#window.hit(limit, period, at);
  }

  /** Any object: answers, to prove the namespace is reachable. */
  ping(): true {
    return true;
  }

  /** The sweep of expired rows (store/durable-tables.ts). */
  override async alarm(): Promise<void> {
    await this.#sweeper.sweep();
  }

  /** Writes a directory entry naming this object as the owner. */
  #link(shard: string, key: string, ttl: number): Promise<void> {
    const namespace = this.env.SESSION_OBJECTS;
    return namespace.get(namespace.idFromName(shard)).put(key, this.ctx.id.toString(), ttl);
  }

  async #linkSid(write: SessionWrite): Promise<void> {
    await this.#link(await OBJECT.shardOf(ENTRY.sid(write.sid)), ENTRY.sid(write.sid), write.ttl);
  }

  #byId(owner: string): DurableObjectStub<GatehouseSessions> {
    return this.env.SESSION_OBJECTS.get(this.env.SESSION_OBJECTS.idFromString(owner));
  }
}
