// The edgecfg side of a scenario: the public HTTP API, exactly as an app or the SDK calls it.
import type { Answer, Driver, Http, HttpAnswer } from "./driver.ts";

function header(res: HttpAnswer, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function answer(res: HttpAnswer): Answer {
  return {
    status: res.status,
    version: header(res, "etag"),
    token: header(res, "x-edgecfg-revision"),
  };
}

export function edgecfgDriver(http: Http, adminToken: string): Omit<Driver, "close"> {
  const auth = { authorization: `Bearer ${adminToken}` };
  const json = { ...auth, "content-type": "application/json" };
  return {
    health: async () => answer(await http({ method: "GET", path: "/healthz" })),
    read: async (key, stale) =>
      answer(
        await http({
          method: "GET",
          path: `/v1/kv/${key}${stale ? "?consistency=stale" : ""}`,
          headers: auth,
        }),
      ),
    bundle: async (namespace, etag) => {
      const headers = etag === undefined ? auth : { ...auth, "if-none-match": etag };
      // Apps polling config bundles are the stale-OK case (answered from the isolate's cache).
      return answer(
        await http({ method: "GET", path: `/v1/ns/${namespace}?consistency=stale`, headers }),
      );
    },
    // Flags are read as polls are: stale-OK, from the isolate's cache.
    ofrepBulk: async (namespace, etag, context) => {
      const headers = etag === undefined ? json : { ...json, "if-none-match": etag };
      const path = `/v1/ns/${namespace}/ofrep/v1/evaluate/flags?consistency=stale`;
      return answer(
        await http({ method: "POST", path, headers, body: JSON.stringify({ context }) }),
      );
    },
    ofrepEval: async (namespace, flag, context) => {
      const path = `/v1/ns/${namespace}/ofrep/v1/evaluate/flags/${flag}?consistency=stale`;
      const body = JSON.stringify({ context });
      return answer(await http({ method: "POST", path, headers: json, body }));
    },
    cas: async (key, version, body) => {
      const precondition: Record<string, string> =
        version === undefined ? { "if-none-match": "*" } : { "if-match": version };
      return answer(
        await http({
          method: "PUT",
          path: `/v1/kv/${key}`,
          headers: { ...json, ...precondition },
          body,
        }),
      );
    },
    put: async (key, body) =>
      answer(await http({ method: "PUT", path: `/v1/kv/${key}`, headers: json, body })),
    txn: async (body) =>
      answer(await http({ method: "POST", path: "/v1/txn", headers: json, body })),
    apply: async (namespace, body) =>
      answer(
        await http({ method: "POST", path: `/v1/ns/${namespace}/apply`, headers: json, body }),
      ),
    won: (a) => a.status === 200 || a.status === 201,
    ...coordination(http, json),
  };
}

/** How the SDK's withLock does it: a long-poll acquire (`wait`), then DELETE with the token. */
function coordination(
  http: Http,
  json: Record<string, string>,
): Pick<Driver, "leaseGrant" | "leaseRevoke" | "leaseKeepAlive" | "lock" | "unlock" | "released"> {
  const body = (res: HttpAnswer) => JSON.parse(res.text) as Record<string, unknown>;
  return {
    leaseGrant: async (namespace, ttlSeconds) => {
      const res = await http({
        method: "POST",
        path: "/v1/leases",
        headers: json,
        body: JSON.stringify({ namespace, ttlSeconds }),
      });
      return { status: res.status, version: res.status === 201 ? String(body(res).id) : undefined };
    },
    leaseRevoke: async (id) =>
      answer(await http({ method: "DELETE", path: `/v1/leases/${id}`, headers: json })),
    leaseKeepAlive: async (id) =>
      answer(await http({ method: "POST", path: `/v1/leases/${id}/keepalive`, headers: json })),
    lock: async (lock, lease) => {
      const res = await http({
        method: "POST",
        path: `/v1/locks/${lock}`,
        headers: json,
        body: JSON.stringify({ lease, wait: 60 }),
      });
      const token = res.status === 200 ? String(body(res).fencingToken) : undefined;
      return { status: res.status, version: token };
    },
    unlock: async (lock, token) =>
      answer(
        await http({
          method: "DELETE",
          path: `/v1/locks/${lock}`,
          headers: { ...json, "x-edgecfg-fencing-token": token },
        }),
      ),
    released: (a) => a.status === 204,
  };
}
