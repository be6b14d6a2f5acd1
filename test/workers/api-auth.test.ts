// Authentication and authorization: bearer tokens, scopes, public-read namespaces, and the
// secure default of a deployment without ADMIN_TOKEN.
import { createExecutionContext, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { authLookupLimits } from "../../src/api/auth-lookups.ts";
import { RaftRouter, type RaftRouterEnv } from "../../src/router/raft-router.ts";
import { systemNamespace } from "../../src/store/keys.ts";
import {
  adminToken,
  base,
  call,
  clientRequestsOf,
  freshNs,
  mint,
  problemOf,
  put,
  workerEnv as env,
} from "./api/helpers.ts";

describe("bearer tokens", () => {
  it("401 without a token, with a malformed header, with an unknown token", async () => {
    const ns = freshNs();
    const none = await put(`${ns}/k`, 1, {}, null);
    expect(none.status).toBe(401);
    expect(none.headers.get("WWW-Authenticate")).toContain("Bearer");
    expect((await problemOf(none)).detail).toContain("Authorization: Bearer");
    expect((await call(`/v1/kv/${ns}/k`, { token: null })).status).toBe(401);
    const basic = await SELF.fetch(`${base}/v1/kv/${ns}/k`, {
      headers: { Authorization: "Basic dXNlcjpwYXNz" },
    });
    expect((await problemOf(basic)).status).toBe(401);
    expect((await call(`/v1/kv/${ns}/k`, { token: "ecfg_not-a-real-token" })).status).toBe(401);
    expect((await call(`/v1/kv/${ns}/k`, { token: adminToken + "x" })).status).toBe(401);
  });

  it("minted tokens are shown once, listed without secrets, scoped, and revocable", async () => {
    const ns = freshNs("app");
    const other = freshNs("other");
    await put(`${ns}/k`, { v: 1 });
    await put(`${other}/k`, { v: 1 });
    const reader = await mint([{ namespaces: [ns], ops: ["read"] }]);
    expect(reader.token).toMatch(/^ecfg_/);
    expect((await call(`/v1/kv/${ns}/k`, { token: reader.token })).status).toBe(200);
    const denied = await put(`${ns}/k`, 2, {}, reader.token);
    expect(denied.status).toBe(403);
    expect((await problemOf(denied)).detail).toContain("may not write");
    expect((await call(`/v1/kv/${other}/k`, { token: reader.token })).status).toBe(403);
    expect((await call(`/v1/tokens`, { token: reader.token })).status).toBe(403);

    const listed = (await (await call("/v1/tokens")).json()) as {
      tokens: Array<Record<string, unknown>>;
    };
    const mine = listed.tokens.find((t) => t.id === reader.id)!;
    expect(mine.scopes).toEqual([{ namespaces: [ns], ops: ["read"] }]);
    expect(JSON.stringify(listed)).not.toContain(reader.token);
    expect(mine).not.toHaveProperty("hashHex");

    expect((await call(`/v1/tokens/${reader.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/v1/kv/${ns}/k`, { token: reader.token })).status).toBe(401);
    expect((await call(`/v1/tokens/${reader.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("an answer the isolate has cached (stale key read, bundle) goes only to callers allowed to read it", async () => {
    const ns = freshNs("cached");
    await put(`${ns}/k`, { v: 1 });
    const stale = (path: string, token?: string | null) =>
      call(`${path}?consistency=stale`, { token });
    // The admin's reads fill the isolate cache; every later caller is still checked.
    for (const path of [`/v1/kv/${ns}/k`, `/v1/ns/${ns}`]) {
      expect((await stale(path)).status).toBe(200);
      expect((await stale(path)).status).toBe(200);
      expect((await stale(path, null)).status).toBe(401);
      expect((await stale(path, "ecfg_not-a-real-token")).status).toBe(401);
      const res = await SELF.fetch(`${base}${path}?consistency=stale`, {
        headers: { Authorization: `Bearer${adminToken}` },
      });
      expect(res.status).toBe(401);
    }
    const elsewhere = await mint([{ namespaces: [`${ns}-other`], ops: ["read"] }]);
    const reader = await mint([{ namespaces: [ns], ops: ["read"] }]);
    for (const path of [`/v1/kv/${ns}/k`, `/v1/ns/${ns}`]) {
      expect((await stale(path, elsewhere.token)).status).toBe(403);
      const allowed = await stale(path, reader.token);
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get("X-Edgecfg-Revision")).toMatch(/^s\d+\.\d+$/);
    }
  });

  it("globs match namespaces; write and admin scopes; admin on * manages tokens", async () => {
    const prefix = freshNs("team");
    const writer = await mint([{ namespaces: [`${prefix}-*`], ops: ["write", "read"] }]);
    expect((await put(`${prefix}-a/k`, 1, {}, writer.token)).status).toBe(201);
    expect((await put(`${prefix}-b/k`, 1, {}, writer.token)).status).toBe(201);
    expect((await put(`${prefix}/k`, 1, {}, writer.token)).status).toBe(403);
    const nsAdmin = await mint([{ namespaces: [`${prefix}-a`], ops: ["admin"] }]);
    expect((await call(`/v1/kv/${prefix}-a/k`, { token: nsAdmin.token })).status).toBe(200);
    expect(
      (
        await call(`/v1/ns/${prefix}-a/settings`, {
          method: "PUT",
          token: nsAdmin.token,
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ publicRead: false }),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call(`/v1/ns/${prefix}-b/settings`, {
          method: "PUT",
          token: writer.token,
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ publicRead: true }),
        })
      ).status,
    ).toBe(403);
    const superAdmin = await mint([{ namespaces: ["*"], ops: ["admin"] }]);
    expect((await call("/v1/tokens", { token: superAdmin.token })).status).toBe(200);
  });

  it("expired tokens are 401 and listed as expired", async () => {
    const ns = freshNs();
    const t = await mint([{ namespaces: [ns], ops: ["read"] }], 1);
    const lasting = await mint([{ namespaces: [ns], ops: ["read"] }], 3600);
    const forever = await mint([{ namespaces: [ns], ops: ["read"] }]);
    await new Promise((r) => setTimeout(r, 1100));
    const res = await call(`/v1/kv/${ns}/k`, { token: t.token });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).detail).toContain("expired");
    const { tokens } = (await (await call("/v1/tokens")).json()) as {
      tokens: Array<{ id: string; expired: boolean }>;
    };
    const expired = (id: string) => tokens.find((x) => x.id === id)?.expired;
    expect([expired(t.id), expired(lasting.id), expired(forever.id)]).toEqual([true, false, false]);
  });

  it("a scope naming the reserved system namespace is 400", async () => {
    for (const glob of [systemNamespace, "_*", "_sys*"]) {
      const res = await call("/v1/tokens", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ scopes: [{ namespaces: ["app", glob], ops: ["admin"] }] }),
      });
      expect(res.status, glob).toBe(400);
      const p = await problemOf(res);
      expect(p.detail, glob).toContain('field "scopes[0].namespaces[1]"');
      expect(p.detail, glob).toContain("reserved");
    }
  });

  it("rejects malformed mint requests", async () => {
    const bad = async (body: unknown) =>
      (
        await call("/v1/tokens", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        })
      ).status;
    expect(await bad({ scopes: [] })).toBe(400);
    expect(await bad({ scopes: [{ namespaces: ["UPPER"], ops: ["read"] }] })).toBe(400);
    expect(await bad({ scopes: [{ namespaces: ["a"], ops: ["delete"] }] })).toBe(400);
    expect(
      await bad({ scopes: [{ namespaces: ["a"], ops: ["read"] }], expiresInSeconds: -1 }),
    ).toBe(400);
    expect(await bad({ scopes: [{ namespaces: ["a"], ops: ["read"] }], owner: "me" })).toBe(400);
  });
});

describe("authorization lookups remembered per isolate", () => {
  const stale = (path: string, token: string | null) =>
    call(`${path}?consistency=stale`, { token });
  const setPublic = (ns: string, publicRead: boolean) =>
    call(`/v1/ns/${ns}/settings`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ publicRead }),
    });

  it("a scoped token's polls and anonymous polls of a public namespace read _sys at most once per ttlMs", async () => {
    // The hardest case: a namespace on _sys's own shard, whose cached reads are counted too.
    const ring = new RaftRouter(env as unknown as RaftRouterEnv);
    let ns = freshNs("polled");
    while ((await ring.shardOf(ns)) !== (await ring.shardOf(systemNamespace)))
      ns = freshNs("polled");
    await put(`${ns}/k`, { v: 1 });
    const reader = await mint([{ namespaces: [ns], ops: ["read"] }]);
    expect((await setPublic(ns, true)).status).toBe(200);
    const callers = [reader.token, null];
    // Remember both lookups (token, public-read flag) and fill the isolate cache; anything
    // fetched from here on expires ttlMs after t0 at the earliest.
    const t0 = Date.now();
    for (const token of callers) {
      expect((await stale(`/v1/kv/${ns}/k`, token)).status).toBe(200);
      expect((await stale(`/v1/ns/${ns}`, token)).status).toBe(200);
    }
    const before = await clientRequestsOf(systemNamespace);
    for (let i = 0; i < 10; i++) {
      for (const token of callers) {
        expect((await stale(`/v1/kv/${ns}/k`, token)).status).toBe(200);
        expect((await stale(`/v1/ns/${ns}`, token)).status).toBe(200);
      }
    }
    // Without remembering: 40 token or settings reads. On a slow machine, per expiry the two
    // lookups and (the shard is the same) the two cached reads again.
    expect((await clientRequestsOf(systemNamespace)) - before).toBeLessThanOrEqual(
      4 * Math.floor((Date.now() - t0) / authLookupLimits.ttlMs),
    );
  });

  it("a revocation or a settings change through this isolate takes effect at once", async () => {
    const ns = freshNs("changed");
    await put(`${ns}/k`, { v: 1 });
    const reader = await mint([{ namespaces: [ns], ops: ["read"] }]);
    expect((await setPublic(ns, true)).status).toBe(200);
    expect((await stale(`/v1/kv/${ns}/k`, reader.token)).status).toBe(200);
    expect((await stale(`/v1/kv/${ns}/k`, null)).status).toBe(200);
    expect((await call(`/v1/tokens/${reader.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await setPublic(ns, false)).status).toBe(200);
    expect((await stale(`/v1/kv/${ns}/k`, reader.token)).status).toBe(401);
    expect((await stale(`/v1/kv/${ns}/k`, null)).status).toBe(401);
  });

  it("a revocation made elsewhere (not through this isolate) takes effect here within ttlMs", async () => {
    const ns = freshNs("elsewhere");
    await put(`${ns}/k`, { v: 1 });
    const reader = await mint([{ namespaces: [ns], ops: ["read"] }]);
    expect((await stale(`/v1/kv/${ns}/k`, reader.token)).status).toBe(200);
    // Another isolate's write reaches the shard without passing this isolate's API.
    const written = await new RaftRouter(env as unknown as RaftRouterEnv).write(systemNamespace, {
      type: "tokenRevoke",
      atMs: Date.now(),
      id: reader.id,
    });
    expect(written.outcome.type).toBe("tokenRevoked");
    await new Promise((r) => setTimeout(r, authLookupLimits.ttlMs));
    expect((await stale(`/v1/kv/${ns}/k`, reader.token)).status).toBe(401);
  });
});

describe("public-read namespaces", () => {
  it("anyone may read a public-read namespace; writes still need a token", async () => {
    const ns = freshNs("pub");
    await put(`${ns}/config`, { theme: "dark" });
    expect((await call(`/v1/ns/${ns}`, { token: null })).status).toBe(401);
    const set = await call(`/v1/ns/${ns}/settings`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ publicRead: true }),
    });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ namespace: ns, publicRead: true, schemas: {} });
    expect((await call(`/v1/ns/${ns}`, { token: null })).status).toBe(200);
    expect((await call(`/v1/kv/${ns}/config`, { token: null })).status).toBe(200);
    expect((await call(`/v1/kv?prefix=${ns}/`, { token: null })).status).toBe(200);
    expect((await put(`${ns}/config`, { theme: "light" }, {}, null)).status).toBe(401);
    expect((await call(`/v1/ns/${ns}/settings`, { token: null })).status).toBe(200);
    await call(`/v1/ns/${ns}/settings`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ publicRead: false }),
    });
    expect((await call(`/v1/ns/${ns}`, { token: null })).status).toBe(401);
  });
});

describe("a deployment without ADMIN_TOKEN", () => {
  const bare = { ...env, ADMIN_TOKEN: undefined };
  const fetchBare = (path: string, init: RequestInit = {}) =>
    worker.fetch(new Request(base + path, init), bare, createExecutionContext());

  it("refuses every write with 503 and says how to fix it; health and reads of public namespaces still work", async () => {
    const ns = freshNs();
    for (const [path, init] of [
      [`/v1/kv/${ns}/k`, { method: "PUT", body: "x" }],
      [`/v1/kv/${ns}/k`, { method: "DELETE" }],
      [
        "/v1/txn",
        {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ success: [{ type: "put", key: `${ns}/k`, value: 1 }] }),
        },
      ],
      [
        "/v1/tokens",
        {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ scopes: [{ namespaces: ["*"], ops: ["admin"] }] }),
        },
      ],
      [
        `/v1/kv/${ns}/k`,
        { method: "PUT", body: "x", headers: { Authorization: `Bearer ${adminToken}` } },
      ],
    ] as Array<[string, RequestInit]>) {
      const res = await fetchBare(path, init);
      expect(res.status, path).toBe(503);
      const p = await problemOf(res);
      expect(p.detail).toContain("wrangler secret put ADMIN_TOKEN");
      expect(res.headers.get("Retry-After")).not.toBeNull();
    }
    expect((await fetchBare("/healthz")).status).toBe(200);
    expect((await fetchBare(`/v1/kv/${ns}/k`)).status).toBe(401);
    expect((await fetchBare(`/v1/kv/${ns}/k`, { method: "HEAD" })).status).toBe(401); // a read, not a write
  });
});
