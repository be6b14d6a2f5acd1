// The operations a scenario needs, implemented once per target (edgecfg's HTTP API, etcd's JSON
// gateway) over one keep-alive undici Agent. Each call makes exactly one HTTP request, so a
// scenario's latency figures are per request (the lock scenario times a cycle of two).
import { Agent } from "undici";
import type { Target } from "./types.ts";

export interface Answer {
  status: number;
  /** The key's version token: edgecfg's ETag, or etcd's mod_revision ("0" = absent). */
  version?: string | undefined;
  /** edgecfg's consistency token (`s<shard>.<revision>`), when the answer carries one. */
  token?: string | undefined;
}

export interface Driver {
  health(): Promise<Answer>;
  read(key: string, stale: boolean): Promise<Answer>;
  /** The namespace bundle; with `etag`, a conditional GET that should answer 304. */
  bundle(namespace: string, etag: string | undefined): Promise<Answer>;
  /** OFREP bulk evaluation (stale-OK, as polls); with `etag`, one that should answer 304. */
  ofrepBulk(namespace: string, etag: string | undefined, context: object): Promise<Answer>;
  /** OFREP single evaluation (stale-OK). */
  ofrepEval(namespace: string, flag: string, context: object): Promise<Answer>;
  /** Compare-and-set: writes only if the key is still at `version` (undefined = must not exist). */
  cas(key: string, version: string | undefined, value: string): Promise<Answer>;
  put(key: string, value: string): Promise<Answer>;
  /** POST /v1/txn with this JSON body (edgecfg only). */
  txn?(body: string): Promise<Answer>;
  /** Declarative apply of a whole namespace (edgecfg only: etcd has no such call). */
  apply?(namespace: string, body: string): Promise<Answer>;
  /** Whether a `cas` answer means the write won. */
  won(answer: Answer): boolean;
  /** A lease of `namespace` (no keep-alive: the bench revokes it); `version` carries its id. */
  leaseGrant(namespace: string, ttlSeconds: number): Promise<Answer>;
  leaseRevoke(id: string): Promise<Answer>;
  /** 200 while the lease lives. */
  leaseKeepAlive(id: string): Promise<Answer>;
  /**
   * Acquires `lock` for `lease`, waiting in line as long as it takes (first come first served);
   * 200 once held, `version` carrying what `unlock` needs (edgecfg's fencing token, etcd's key).
   */
  lock(lock: string, lease: string): Promise<Answer>;
  /** Releases a lock `lock` answered; whether it did is `released`. */
  unlock(lock: string, held: string): Promise<Answer>;
  released(answer: Answer): boolean;
  close(): Promise<void>;
}

export interface HttpRequest {
  method: "GET" | "PUT" | "POST" | "DELETE";
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request on the shared agent; the body is always read so the connection can be reused. */
export type Http = (request: HttpRequest) => Promise<HttpAnswer>;

export function httpClient(origin: string, connections: number): { http: Http; agent: Agent } {
  // keep-alive is undici's default; `connections` caps sockets per origin, one per client.
  const agent = new Agent({ connections, keepAliveTimeout: 30_000, pipelining: 1 });
  const http: Http = async (request) => {
    const res = await agent.request({ origin, ...request });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  };
  return { http, agent };
}

export async function makeDriver(target: Target, connections: number): Promise<Driver> {
  const { http, agent } = httpClient(target.url, connections);
  const close = () => agent.close();
  if (target.kind === "edgecfg") {
    const { edgecfgDriver } = await import("./driver-edgecfg.ts");
    return { ...edgecfgDriver(http, target.adminToken), close };
  }
  const { etcdDriver } = await import("./driver-etcd.ts");
  return { ...etcdDriver(http), close };
}
