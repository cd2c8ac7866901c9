// An in-memory oidc-provider adapter whose storage outlives a Provider instance, so the reference
// OP can rotate its signing keys (a new Provider) without losing clients, sessions, codes or tokens.

const store = new Map(); // key -> { payload, expiresAt }
const grants = new Map(); // grantId -> Set of keys

function live(key) {
  const e = store.get(key);
  if (!e) return undefined;
  if (e.expiresAt && e.expiresAt < Date.now()) {
    store.delete(key);
    return undefined;
  }
  return e.payload;
}

export class SharedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    store.set(key, { payload: structuredClone(payload), expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : 0 });
    if (payload.grantId) {
      if (!grants.has(payload.grantId)) grants.set(payload.grantId, new Set());
      grants.get(payload.grantId).add(key);
    }
    if (payload.uid) store.set(`${this.model}:uid:${payload.uid}`, { payload: id, expiresAt: 0 });
    if (payload.userCode) store.set(`${this.model}:userCode:${payload.userCode}`, { payload: id, expiresAt: 0 });
  }

  async find(id) {
    const p = live(this.key(id));
    return p ? structuredClone(p) : undefined;
  }

  async findByUid(uid) {
    const id = live(`${this.model}:uid:${uid}`);
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode) {
    const id = live(`${this.model}:userCode:${userCode}`);
    return id ? this.find(id) : undefined;
  }

  async consume(id) {
    const e = store.get(this.key(id));
    if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grants.get(grantId) ?? []) store.delete(key);
    grants.delete(grantId);
  }
}
