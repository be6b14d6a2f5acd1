// Helpers of the API tests: requests through SELF (the Worker as deployed), the development admin
// token, and unique namespaces so tests never share state.
import { env, SELF } from "cloudflare:test";
import type { Env } from "../../../src/env.ts";
import { RaftRouter, type RaftRouterEnv } from "../../../src/router/raft-router.ts";
import { shardIndexFor } from "../../../src/ring/index.ts";
import { checkContract } from "./contract.ts";

/** The Worker's bindings, typed as the Worker sees them. */
export const workerEnv = env as unknown as Env;

export const adminToken = "dev-admin-token";

if (workerEnv.ADMIN_TOKEN !== adminToken) {
  throw new Error(
    `the API tests need the binding ADMIN_TOKEN="${adminToken}": add ` +
      `miniflare: { bindings: { ADMIN_TOKEN: "${adminToken}" } } to cloudflareTest() in vitest.config.ts`,
  );
}

let counter = 0;

/** A namespace no other test uses. */
export function freshNs(label = "t"): string {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

export const base = "http://edgecfg.test";

export interface Call {
  method?: string;
  headers?: Record<string, string>;
  body?: BodyInit | null;
  /** Bearer token; default the admin token; null sends none. */
  token?: string | null;
}

/** A request to the Worker; its answer is checked against the OpenAPI document (api/contract.ts). */
export async function call(path: string, init: Call = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = init.token === undefined ? adminToken : init.token;
  if (token !== null) headers.set("Authorization", `Bearer ${token}`);
  const method = init.method ?? "GET";
  const res = await SELF.fetch(base + path, { method, headers, body: init.body ?? null });
  // An event stream never ends by itself: its headers are checked, its body is left to the test.
  const stream = res.headers.get("Content-Type")?.startsWith("text/event-stream") ?? false;
  await checkContract(base, method, base + path, stream ? withoutBody(res) : res.clone());
  return res;
}

function withoutBody(res: Response): Response {
  return new Response(null, { status: res.status, headers: res.headers });
}

export function put(
  key: string,
  value: unknown,
  headers: Record<string, string> = {},
  token?: string | null,
): Promise<Response> {
  const body =
    typeof value === "string" || value instanceof Uint8Array ? value : JSON.stringify(value);
  const h =
    typeof value === "string" || value instanceof Uint8Array
      ? headers
      : { "Content-Type": "application/json", ...headers };
  return call(`/v1/kv/${key}`, {
    method: "PUT",
    headers: h,
    body,
    ...(token === undefined ? {} : { token }),
  });
}

export async function problemOf(
  res: Response,
): Promise<{ type: string; title: string; status: number; detail: string; [k: string]: unknown }> {
  if (!res.headers.get("Content-Type")?.startsWith("application/problem+json")) {
    throw new Error(
      `expected problem+json, got ${res.status} ${res.headers.get("Content-Type")}: ${await res.text()}`,
    );
  }
  const body = (await res.json()) as {
    type: string;
    title: string;
    status: number;
    detail: string;
  };
  if (body.status !== res.status || !body.type || !body.title || !body.detail)
    throw new Error(`incomplete problem: ${JSON.stringify(body)}`);
  return body;
}

export async function mint(
  scopes: Array<{ namespaces: string[]; ops: string[] }>,
  expiresInSeconds?: number,
): Promise<{ id: string; token: string }> {
  const res = await call("/v1/tokens", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      scopes,
      ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
    }),
  });
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; token: string };
}

/** Client requests (reads, proposals, waits) the replicas of `namespace`'s shard have served. */
export async function clientRequestsOf(namespace: string): Promise<number> {
  const cluster = (await (await call("/v1/cluster")).json()) as {
    backend: string;
    shards: { shard: number; replicas: { id: string }[] }[];
  };
  if (cluster.backend !== "raft")
    throw new Error(`clientRequestsOf counts Raft replicas; this Worker runs ${cluster.backend}`);
  const shard = await new RaftRouter(workerEnv as unknown as RaftRouterEnv).shardOf(namespace);
  const ns = (env as unknown as { REPLICA: DurableObjectNamespace }).REPLICA;
  let total = 0;
  for (const r of cluster.shards.find((s) => s.shard === shard)!.replicas) {
    const stub = ns.get(ns.idFromName(r.id)) as unknown as {
      stats(): Promise<{ clientRequests: number }>;
    };
    total += (await stub.stats()).clientRequests;
  }
  return total;
}

/** The ring's size in the workers project's wrangler vars. */
export const workerShards = Number((workerEnv as unknown as { SHARDS?: string }).SHARDS ?? "4");

/** Two fresh namespaces the ring places on different shards (`same`: on one shard). */
export function namespacePair(labels: [string, string], same = false): [string, string] {
  const a = freshNs(labels[0]);
  for (;;) {
    const b = freshNs(labels[1]);
    if ((shardIndexFor(a, workerShards) === shardIndexFor(b, workerShards)) === same) return [a, b];
  }
}
