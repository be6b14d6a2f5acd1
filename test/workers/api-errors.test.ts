// The error model: problem+json for every failure, 404/405 for unknown routes and methods,
// unknown query parameters named, and the OpenAPI document.
import { createExecutionContext, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { ShardUnavailableError, type Router } from "../../src/router/types.ts";
import { base, call, freshNs, problemOf, put, workerEnv } from "./api/helpers.ts";

describe("problem+json everywhere", () => {
  it("404 for unknown routes, 405 with Allow for known routes", async () => {
    const p = await problemOf(await call("/v2/nothing"));
    expect(p.status).toBe(404);
    expect(p.type).toMatch(/^https:\/\//);
    expect(p.title).toBe("Not Found");
    const post = await call(`/v1/kv/${freshNs()}/k`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("DELETE, GET, HEAD, PUT");
    await problemOf(post);
    expect((await call("/v1/txn")).headers.get("Allow")).toBe("POST");
    expect((await call("/healthz", { method: "DELETE" })).status).toBe(405);
    expect((await call("/v1/cluster", { method: "OPTIONS" })).status).toBe(204);
  });

  it("unknown query parameters are 400 and named", async () => {
    const ns = freshNs();
    await put(`${ns}/k`, 1);
    for (const path of [
      `/v1/kv/${ns}/k?foo=1`,
      `/v1/ns/${ns}?x=y`,
      `/v1/kv/${ns}/k/history?limit=2`,
      `/healthz?verbose`,
    ]) {
      const p = await problemOf(await call(path));
      expect(p.status, path).toBe(400);
      expect(p.detail, path).toMatch(/unknown query parameter/);
    }
    expect((await problemOf(await put(`${ns}/k?ttl=5`, 1))).detail).toContain('"ttl"');
    expect((await problemOf(await call(`/v1/kv/${ns}/k?consistency=eventual`))).detail).toContain(
      "linearizable",
    );
    expect((await problemOf(await call(`/v1/kv/${ns}/k?meta&meta`))).detail).toContain("twice");
  });

  it("validation errors say in plain words what to send, never in zod's words", async () => {
    const ns = freshNs();
    const mint = async (body: unknown) =>
      (
        await problemOf(
          await call("/v1/tokens", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(body),
          }),
        )
      ).detail;
    const cases: Array<[Promise<string>, string]> = [
      [mint({}), 'field "scopes" is missing: send a JSON array'],
      [mint({ scopes: "all" }), 'field "scopes" must be a JSON array, not a string (got "all")'],
      [mint({ scopes: [] }), 'field "scopes" must list at least 1 item'],
      [
        mint({ scopes: [{ namespaces: ["a"], ops: ["delete"] }] }),
        'field "scopes[0].ops[0]" must be one of "read", "write", "admin" (got "delete")',
      ],
      [
        mint({ scopes: [{ namespaces: ["a"], ops: ["read"] }], expiresInSeconds: 1.5 }),
        'field "expiresInSeconds" must be a whole number, not a fraction (got 1.5)',
      ],
      [
        mint({ scopes: [{ namespaces: ["a"], ops: ["read"] }], expiresInSeconds: 0 }),
        'field "expiresInSeconds" must be at least 1 (got 0)',
      ],
      [mint([1, 2]), "the body must be a JSON object, not an array"],
      [
        (async () =>
          (
            await problemOf(
              await call("/v1/txn", {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ success: [{ type: "frobnicate", key: `${ns}/k` }] }),
              }),
            )
          ).detail)(),
        'field "success[0].type" must be one of "put", "delete", "get" (got "frobnicate")',
      ],
      [
        (async () => (await problemOf(await call(`/v1/kv?prefix=${ns}/&limit=lots`))).detail)(),
        'query parameter "limit" must be an integer from 1 to 1000 (got "lots")',
      ],
    ];
    for (const [detail, expected] of cases) {
      const text = await detail;
      expect(text).toContain(expected);
      expect(text).not.toMatch(/Invalid input|Too small|received|expected/);
    }
  });

  it("values echoed in a detail are cut to a short prefix", async () => {
    const ns = freshNs();
    const long = "y".repeat(2000);
    const answers = [
      await call(`/v1/kv/${ns}/k?consistency=${long}`),
      await put(`${ns}/${"!".repeat(400)}`, 1),
      await put(`${ns}/k`, 1, { "If-Match": `${long}"` }),
      await put(`${ns}/k`, 1, { "If-None-Match": long }),
      await call(`/v1/kv/${ns}/k`, { headers: { "X-Edgecfg-Min-Revision": long } }),
      await call("/v1/txn", { method: "POST", headers: { "Content-Type": long }, body: "{}" }),
    ];
    for (const res of answers) {
      const p = await problemOf(res);
      expect(p.status).toBeGreaterThanOrEqual(400);
      expect(p.detail.length, p.detail).toBeLessThan(400);
      expect(p.detail).toContain("…");
    }
  });

  it("a URL too long for any request of the API is 414 problem+json, on routes and off them", async () => {
    const ns = freshNs();
    const long = "q".repeat(17 * 1024);
    for (const path of [
      `/v1/kv/${ns}/k?consistency=${long}`,
      `/v1/${long}`,
      `/v1/kv/${ns}/${long}`,
    ]) {
      const p = await problemOf(await call(path));
      expect(p.status, path.slice(0, 20)).toBe(414);
      expect(p.detail).toContain("at most 16384");
    }
    expect((await call(`/v1/kv/${ns}/k?consistency=${"q".repeat(15 * 1024)}`)).status).toBe(400);
  });

  it("a header the API reads that is longer than any valid value is 431 problem+json naming it", async () => {
    const ns = freshNs();
    await put(`${ns}/k`, 1);
    const huge = `"${"r".repeat(9 * 1024)}"`;
    const cases: Array<[string, Promise<Response>]> = [
      ["If-None-Match", call(`/v1/kv/${ns}/k`, { headers: { "If-None-Match": huge } })],
      ["If-None-Match", call(`/v1/ns/${ns}`, { headers: { "If-None-Match": huge } })],
      ["If-Match", put(`${ns}/k`, 2, { "If-Match": huge })],
      [
        "X-Edgecfg-Min-Revision",
        call(`/v1/kv?prefix=${ns}/`, { headers: { "X-Edgecfg-Min-Revision": huge } }),
      ],
      [
        "Content-Type",
        call("/v1/txn", { method: "POST", headers: { "Content-Type": huge }, body: "{}" }),
      ],
      ["Idempotency-Key", put(`${ns}/k`, 2, { "Idempotency-Key": "k".repeat(9 * 1024) })],
    ];
    for (const [name, answer] of cases) {
      const p = await problemOf(await answer);
      expect(p.status, name).toBe(431);
      expect(p.header, name).toBe(name);
      expect(p.detail, name).toContain(`the ${name} header is`);
    }
    expect(await (await call(`/v1/kv/${ns}/k`)).json()).toBe(1);
  });

  it("CORS: any origin may call, preflights are answered, validators are exposed", async () => {
    const ns = freshNs();
    await put(`${ns}/k`, 1);
    const res = await call(`/v1/kv/${ns}/k`, { headers: { Origin: "https://app.example" } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Access-Control-Expose-Headers")).toContain("ETag");
    const pre = await call(`/v1/kv/${ns}/k`, {
      method: "OPTIONS",
      token: null,
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, if-match",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("Access-Control-Allow-Methods")).toContain("PUT");
    expect(pre.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("if-match");
    expect(pre.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(pre.headers.get("Access-Control-Max-Age")).toBe("600");
    // Errors too: a browser script must be able to read the problem document and its headers.
    for (const [path, token] of [
      [`/v1/kv/${ns}/missing`, undefined],
      [`/v1/kv/${ns}/k`, "wrong-token"],
      ["/nowhere", undefined],
    ] as const) {
      const err = await call(path, {
        headers: { Origin: "https://app.example" },
        ...(token === undefined ? {} : { token }),
      });
      expect(err.status, path).toBeGreaterThanOrEqual(400);
      expect(err.headers.get("Access-Control-Allow-Origin"), path).toBe("*");
      expect(err.headers.get("Access-Control-Expose-Headers"), path).toContain(
        "X-Edgecfg-Revision",
      );
    }
  });

  it("HEAD reads headers only", async () => {
    const ns = freshNs();
    await put(`${ns}/k`, { v: 1 });
    const res = await call(`/v1/kv/${ns}/k`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toMatch(/^"r\d+"$/);
    expect(await res.text()).toBe("");
  });

  it("problem bodies never carry a stack trace", async () => {
    const res = await SELF.fetch(`${base}/v1/txn`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer dev-admin-token" },
      body: "[1,2",
    });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe("failures of the backend", () => {
  const failing = (error: Error): Router => ({
    shardOf: async () => 0,
    write: () => Promise.reject(error),
    read: () => Promise.reject(error),
    waitForChange: () => Promise.reject(error),
    cluster: () => Promise.reject(error),
  });
  const fetchWith = (router: Router, path: string, init: RequestInit = {}) =>
    createApp({ router: () => router }).fetch(
      new Request(base + path, {
        ...init,
        headers: { Authorization: "Bearer dev-admin-token", ...init.headers },
      }),
      workerEnv,
      createExecutionContext(),
    );

  it("an unexpected exception is a 500 problem without internals", async () => {
    const res = await fetchWith(
      failing(new TypeError("secret internals at foo.ts:12")),
      "/v1/kv/app/k",
    );
    const p = await problemOf(res);
    expect(p.status).toBe(500);
    expect(JSON.stringify(p)).not.toContain("secret internals");
  });

  it("an unavailable backend (an election) is 503 with Retry-After and retryAfter", async () => {
    const res = await fetchWith(
      failing(new ShardUnavailableError("shard 0 is electing a leader", 1500)),
      "/v1/kv/app/k",
      { method: "PUT", body: "x" },
    );
    const p = await problemOf(res);
    expect(p.status).toBe(503);
    expect(p.retryAfter).toBe(2);
    expect(res.headers.get("Retry-After")).toBe("2");
    expect(p.detail).toContain("electing");
  });

  it("a runtime refusal that may pass on retry (retryable, overloaded) is 503, not 500", async () => {
    for (const flag of ["retryable", "overloaded"]) {
      const error = Object.assign(new Error("Durable Object reset because its code was updated."), {
        [flag]: true,
      });
      const res = await fetchWith(failing(error), "/v1/kv/app/k", { method: "PUT", body: "x" });
      const p = await problemOf(res);
      expect(p.status, flag).toBe(503);
      expect(res.headers.get("Retry-After"), flag).toBe("1");
      expect(p.detail, flag).toContain("Idempotency-Key");
    }
  });

  it("an upload that breaks off is 400 problem+json, and nothing is written", async () => {
    let writes = 0;
    const router = { ...failing(new Error("unused")), write: () => (writes++, Promise.reject()) };
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode("part"));
      },
      pull(c) {
        c.error(new Error("connection reset"));
      },
    });
    const res = await fetchWith(router as Router, "/v1/kv/app/k", {
      method: "PUT",
      body,
      duplex: "half",
    } as RequestInit);
    const p = await problemOf(res);
    expect(p.status).toBe(400);
    expect(p.detail).toContain("could not be read to its end");
    expect(writes).toBe(0);
  });

  it("a misconfigured topology still answers /healthz and the OpenAPI document", async () => {
    const app = createApp({
      router: () => {
        throw Object.assign(new Error("SHARDS: must be 1 to 1024"), { name: "TopologyError" });
      },
    });
    const env = workerEnv;
    expect(
      (await app.fetch(new Request(`${base}/healthz`), env, createExecutionContext())).status,
    ).toBe(200);
    expect(
      (await app.fetch(new Request(`${base}/v1/openapi.json`), env, createExecutionContext()))
        .status,
    ).toBe(200);
    const res = await app.fetch(
      new Request(`${base}/v1/kv/app/k`, { headers: { Authorization: "Bearer dev-admin-token" } }),
      env,
      createExecutionContext(),
    );
    expect((await problemOf(res)).detail).toContain("SHARDS");
  });
});

describe("service endpoints", () => {
  it("GET /healthz answers without auth", async () => {
    const res = await call("/healthz", { token: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("GET /v1/openapi.json is OpenAPI 3.1 and documents every endpoint", async () => {
    const doc = (await (await call("/v1/openapi.json", { token: null })).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const ops = Object.entries(doc.paths)
      .flatMap(([p, m]) => Object.keys(m).map((k) => `${k.toUpperCase()} ${p}`))
      .sort();
    expect(ops).toEqual([
      "DELETE /v1/cluster/shards/{shard}/replicas/{id}",
      "DELETE /v1/kv/{namespace}/{name}",
      "DELETE /v1/leases/{id}",
      "DELETE /v1/locks/{namespace}/{name}",
      "DELETE /v1/tokens/{id}",
      "GET /docs",
      "GET /healthz",
      "GET /v1/audit",
      "GET /v1/cluster",
      "GET /v1/cluster/operations/{id}",
      "GET /v1/kv",
      "GET /v1/kv/{namespace}/{name}",
      "GET /v1/kv/{namespace}/{name}/history",
      "GET /v1/leases/{id}",
      "GET /v1/locks/{namespace}/{name}",
      "GET /v1/ns/{namespace}",
      "GET /v1/ns/{namespace}/ofrep/v1/events",
      "GET /v1/ns/{namespace}/settings",
      "GET /v1/openapi.json",
      "GET /v1/tokens",
      "GET /v1/watch",
      "POST /v1/cluster/reshard",
      "POST /v1/cluster/shards/{shard}/leader",
      "POST /v1/cluster/shards/{shard}/replicas",
      "POST /v1/cluster/shards/{shard}/replicas/{id}/replace",
      "POST /v1/leases",
      "POST /v1/leases/{id}/keepalive",
      "POST /v1/locks/{namespace}/{name}",
      "POST /v1/ns/{namespace}/apply",
      "POST /v1/ns/{namespace}/ofrep/v1/evaluate/flags",
      "POST /v1/ns/{namespace}/ofrep/v1/evaluate/flags/{key}",
      "POST /v1/ns/{namespace}/rollback",
      "POST /v1/tokens",
      "POST /v1/txn",
      "PUT /v1/kv/{namespace}/{name}",
      "PUT /v1/ns/{namespace}/settings",
    ]);
    expect(JSON.stringify(doc)).toContain("application/problem+json");
  });

  it("GET /v1/cluster lists the ring and each shard's replica", async () => {
    expect((await call("/v1/cluster", { token: null })).status).toBe(401);
    const status = (await (await call("/v1/cluster")).json()) as {
      backend: string;
      ring: { shards: number };
      shards: Array<{ replicas: Array<{ role: string }> }>;
    };
    expect(status.backend).toBe(workerEnv.BACKEND ?? "solo");
    expect(status.shards).toHaveLength(status.ring.shards);
    expect(status.shards[0]!.replicas.length).toBeGreaterThan(0);
  });
});
