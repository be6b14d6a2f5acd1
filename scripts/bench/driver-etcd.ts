// The etcd side of a scenario, through etcd's gRPC-JSON gateway (v3 API, base64 keys and
// values, int64 as strings). CAS is a txn comparing mod_revision, as etcd's own clients do it;
// a lock is etcd's lock service (v3lockpb: Lock blocks until held, Unlock takes the key it gave).
import type { Driver, Http } from "./driver.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

interface RangeReply {
  kvs?: { mod_revision?: string }[];
}

export function etcdDriver(http: Http): Omit<Driver, "close"> {
  const post = (path: string, body: unknown) =>
    http({ method: "POST", path, body: JSON.stringify(body) });
  return {
    health: async () => ({ status: (await http({ method: "GET", path: "/health" })).status }),
    read: async (key, stale) => {
      const res = await post("/v3/kv/range", { key: b64(key), serializable: stale });
      if (res.status !== 200) return { status: res.status };
      const kvs = (JSON.parse(res.text) as RangeReply).kvs ?? [];
      // A missing key reads as 404 so scenarios treat both targets alike.
      return { status: kvs.length === 0 ? 404 : 200, version: kvs[0]?.mod_revision ?? "0" };
    },
    bundle: async () => ({ status: 501 }),
    ofrepBulk: async () => ({ status: 501 }),
    ofrepEval: async () => ({ status: 501 }),
    cas: async (key, version, value) => {
      const compare = [
        { key: b64(key), target: "MOD", result: "EQUAL", mod_revision: version ?? "0" },
      ];
      const success = [{ request_put: { key: b64(key), value: b64(value) } }];
      const res = await post("/v3/kv/txn", { compare, success });
      if (res.status !== 200) return { status: res.status };
      return {
        status: (JSON.parse(res.text) as { succeeded?: boolean }).succeeded === true ? 200 : 412,
      };
    },
    put: async (key, value) => ({
      status: (await post("/v3/kv/put", { key: b64(key), value: b64(value) })).status,
    }),
    won: (a) => a.status === 200,
    leaseGrant: async (_namespace, ttlSeconds) => {
      const res = await post("/v3/lease/grant", { TTL: ttlSeconds });
      if (res.status !== 200) return { status: res.status };
      return { status: 200, version: (JSON.parse(res.text) as { ID?: string }).ID };
    },
    leaseRevoke: async (id) => ({ status: (await post("/v3/lease/revoke", { ID: id })).status }),
    // etcd keeps leases alive over a gRPC stream; the bench compares DO requests, not etcd.
    leaseKeepAlive: async () => ({ status: 501 }),
    lock: async (lock, lease) => {
      const res = await post("/v3/lock/lock", { name: b64(lock), lease });
      if (res.status !== 200) return { status: res.status };
      return { status: 200, version: (JSON.parse(res.text) as { key?: string }).key };
    },
    unlock: async (_lock, key) => ({ status: (await post("/v3/lock/unlock", { key })).status }),
    released: (a) => a.status === 200,
  };
}
