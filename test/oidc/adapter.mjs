// The test provider's storage: oidc-provider's adapter interface over one Map
// per provider. Unlike the built-in development adapter (an LRU that starts
// dropping entries after a couple of thousand writes, which a long test run
// reaches), nothing is evicted before it expires, so a session kept by one
// test survives the logins of all the others. Expired entries are swept now
// and then.

const SWEEP_EVERY = 1000;

/** A fresh adapter class (oidc-provider's `adapter` option) with its own store. */
export function createTestAdapter() {
  /** key → { payload, expiresAt } */
  const store = new Map();
  /** grantId → keys of the tokens it issued, for revokeByGrantId */
  const grants = new Map();
  let writes = 0;
  const live = (entry) => entry && (entry.expiresAt === undefined || entry.expiresAt > Date.now());
  const read = (key) => {
    const entry = store.get(key);
    if (live(entry)) return entry.payload;
    store.delete(key);
    return undefined;
  };
  const sweep = () => {
    for (const [key, entry] of store) if (!live(entry)) store.delete(key);
  };

  return class TestAdapter {
    /** @param {string} model oidc-provider's model name: Session, Interaction, AccessToken, ... */
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      if (++writes % SWEEP_EVERY === 0) sweep();
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
      const key = this.key(id);
      store.set(key, { payload, expiresAt });
      if (payload.grantId) {
        if (!grants.has(payload.grantId)) grants.set(payload.grantId, new Set());
        grants.get(payload.grantId).add(key);
      }
      if (payload.uid) store.set(`${this.model}:uid:${payload.uid}`, { payload: id, expiresAt });
      if (payload.userCode) store.set(`${this.model}:userCode:${payload.userCode}`, { payload: id, expiresAt });
    }

    async find(id) {
      return read(this.key(id));
    }

    async findByUid(uid) {
      const id = read(`${this.model}:uid:${uid}`);
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode) {
      const id = read(`${this.model}:userCode:${userCode}`);
      return id === undefined ? undefined : this.find(id);
    }

    async consume(id) {
      const payload = read(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id) {
      store.delete(this.key(id));
    }

    async revokeByGrantId(grantId) {
      for (const key of grants.get(grantId) ?? []) store.delete(key);
      grants.delete(grantId);
    }
  };
}
