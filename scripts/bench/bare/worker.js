// The runtime ceiling: the least a Worker and one Durable Object can do to answer the bench's
// read and CAS requests: no API framework, no validation, no auth, no replication, no history.
// It speaks just enough of edgecfg's HTTP API (GET/PUT /v1/kv/<key> with ETag, If-Match,
// If-None-Match: *) for the edgecfg driver to run against it unchanged. Nothing in src/ uses it:
// it only shows how fast this runtime, on this machine, can go at all. `GET /sleep?ms=N` (a
// timer of N ms inside the Durable Object, none for 0) calibrates the simulated WAN: the replicas'
// fault injection delays a message with the same kind of timer.
import { DurableObject } from "cloudflare:workers";

export class Bare extends DurableObject {
  get(key) {
    return this.ctx.storage.kv.get(key) ?? null;
  }

  /**
   * Writes `value` if the key is still at `expected` (null: must not exist; undefined: any);
   * the new version, or null when the precondition failed.
   */
  cas(key, expected, value) {
    const current = this.ctx.storage.kv.get(key);
    if (expected !== undefined && (current?.version ?? null) !== expected) return null;
    const version = (current?.version ?? 0) + 1;
    this.ctx.storage.kv.put(key, { version, value });
    return version;
  }

  async sleep(ms) {
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  }
}

const etag = (version) => `"${version}"`;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok");
    if (url.pathname === "/sleep") {
      const ms = await env.BARE.get(env.BARE.idFromName("bare")).sleep(
        Number(url.searchParams.get("ms") ?? 0),
      );
      return new Response(String(ms));
    }
    if (!url.pathname.startsWith("/v1/kv/")) return new Response("not found", { status: 404 });
    const key = url.pathname.slice("/v1/kv/".length);
    const stub = env.BARE.get(env.BARE.idFromName("bare"));
    if (request.method === "GET") {
      const entry = await stub.get(key);
      if (entry === null) return new Response("not found", { status: 404 });
      return new Response(entry.value, {
        headers: { etag: etag(entry.version), "content-type": "application/json" },
      });
    }
    if (request.method === "PUT") {
      const value = await request.text();
      const ifMatch = request.headers.get("if-match");
      const ifNoneMatch = request.headers.get("if-none-match");
      const expected =
        ifNoneMatch === "*"
          ? null
          : ifMatch === null
            ? undefined
            : Number(ifMatch.replaceAll('"', ""));
      const version = await stub.cas(key, expected, value);
      if (version === null) return new Response("precondition failed", { status: 412 });
      return new Response(null, {
        status: version === 1 ? 201 : 200,
        headers: { etag: etag(version) },
      });
    }
    return new Response("method not allowed", { status: 405 });
  },
};
