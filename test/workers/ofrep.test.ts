// OFREP 0.3.0 under each namespace, through the Worker as deployed: bulk and single evaluation,
// ETag = the namespace revision and 304, OFREP's error bodies and statuses, auth like reads,
// the request's location in the context, and flagd definitions checked on write (422).
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { adminToken, base, call, freshNs, mint, problemOf, put } from "./api/helpers.ts";

const beta = {
  state: "ENABLED",
  defaultVariant: "off",
  variants: { on: true, off: false },
  targeting: { if: [{ in: [{ var: "country" }, ["DE", "FR"]] }, "on", null] },
};

function evaluate(
  ns: string,
  key: string | undefined,
  init: RequestInit & { token?: string | null } = {},
) {
  const path = `/v1/ns/${ns}/ofrep/v1/evaluate/flags${key === undefined ? "" : `/${key}`}`;
  const headers = new Headers(init.headers);
  if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const token = init.token === undefined ? adminToken : init.token;
  if (token !== null) headers.set("Authorization", `Bearer ${token}`);
  return SELF.fetch(base + path, { method: "POST", body: '{"context":{}}', ...init, headers });
}

const withContext = (context: unknown) => ({ body: JSON.stringify({ context }) });

async function seed(ns: string) {
  await put(`${ns}/beta`, beta);
  await put(`${ns}/theme`, { color: "blue" });
  const last = await put(`${ns}/ui/banner`, "hello", { "Content-Type": "text/plain" });
  return { lastETag: last.headers.get("ETag")! };
}

describe("OFREP bulk evaluation", () => {
  it("evaluates every flag of one revision; ETag = the namespace revision", async () => {
    const ns = freshNs();
    const { lastETag } = await seed(ns);
    const res = await evaluate(ns, undefined, withContext({ targetingKey: "u1", country: "DE" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe(lastETag);
    const bundleETag = (await call(`/v1/ns/${ns}`)).headers.get("ETag");
    expect(res.headers.get("ETag")).toBe(bundleETag);
    const body = (await res.json()) as { flags: Record<string, unknown>[]; metadata: unknown };
    const theme = (await call(`/v1/kv/${ns}/theme`)).headers.get("ETag");
    expect(body.flags).toEqual([
      { key: "beta", reason: "TARGETING_MATCH", variant: "on", value: true },
      { key: "theme", reason: "STATIC", variant: theme, value: { color: "blue" } },
      { key: "ui/banner", reason: "STATIC", variant: lastETag, value: "hello" },
    ]);
    expect(body.metadata).toEqual({ namespace: ns, revision: Number(lastETag.slice(2, -1)) });
  });

  it("answers 304 to If-None-Match with the current ETag, 200 once it moved", async () => {
    const ns = freshNs();
    const { lastETag } = await seed(ns);
    const same = await evaluate(ns, undefined, { headers: { "If-None-Match": lastETag } });
    expect(same.status).toBe(304);
    expect(same.headers.get("ETag")).toBe(lastETag);
    expect(await same.text()).toBe("");
    // The body is not read for a 304: polling clients re-send the context that was evaluated.
    const unread = await evaluate(ns, undefined, {
      headers: { "If-None-Match": lastETag },
      body: "x",
    });
    expect(unread.status).toBe(304);
    const moved = await put(`${ns}/theme`, { color: "red" });
    const again = await evaluate(ns, undefined, { headers: { "If-None-Match": lastETag } });
    expect(again.status).toBe(200);
    expect(again.headers.get("ETag")).toBe(moved.headers.get("ETag"));
  });

  it("a namespace never written evaluates to no flags", async () => {
    const res = await evaluate(freshNs(), undefined);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { flags: unknown[] }).flags).toEqual([]);
  });

  it("refuses a malformed request with OFREP's 400 INVALID_CONTEXT", async () => {
    const ns = freshNs();
    for (const body of ["not json", "[]", '{"context":5}', '{"context":{"targetingKey":7}}']) {
      const res = await evaluate(ns, undefined, { body });
      expect(res.status, body).toBe(400);
      expect(res.headers.get("Content-Type")).toBe("application/json");
      expect(await res.json()).toMatchObject({ errorCode: "INVALID_CONTEXT" });
    }
    const badNs = await evaluate("Not_A_Namespace", undefined);
    expect(badNs.status).toBe(400);
    expect(await badNs.json()).toMatchObject({ errorCode: "GENERAL" });
  });

  it("a change-triggered re-fetch (flagConfigEtag) is never answered from older state", async () => {
    const ns = freshNs();
    const { lastETag } = await seed(ns);
    const stale = (etag?: string) =>
      SELF.fetch(
        `${base}/v1/ns/${ns}/ofrep/v1/evaluate/flags?consistency=stale` +
          (etag === undefined ? "" : `&flagConfigEtag=${encodeURIComponent(etag)}`),
        {
          method: "POST",
          headers: { Authorization: `Bearer ${adminToken}` },
          body: '{"context":{}}',
        },
      );
    // A stale answer says which applied revision served it; so does one the notified ETag allows.
    expect((await stale()).headers.get("X-Edgecfg-Applied-Revision")).not.toBeNull();
    expect((await stale(lastETag)).headers.get("X-Edgecfg-Applied-Revision")).not.toBeNull();
    // An ETag newer than the replica's state sends the read to the leader (linearizable).
    const ahead = await stale(`"r${Number(lastETag.slice(2, -1)) + 1000}"`);
    expect(ahead.status).toBe(200);
    expect(ahead.headers.get("X-Edgecfg-Applied-Revision")).toBeNull();
    expect(ahead.headers.get("ETag")).toBe(lastETag);
  });
});

describe("OFREP single evaluation", () => {
  it("evaluates flagd targeting against the context, and static values", async () => {
    const ns = freshNs();
    await seed(ns);
    const de = await evaluate(ns, "beta", withContext({ targetingKey: "u", country: "FR" }));
    expect(de.status).toBe(200);
    expect(await de.json()).toEqual({
      key: "beta",
      reason: "TARGETING_MATCH",
      variant: "on",
      value: true,
    });
    const us = await evaluate(ns, "beta", withContext({ targetingKey: "u", country: "US" }));
    expect(await us.json()).toEqual({
      key: "beta",
      reason: "DEFAULT",
      variant: "off",
      value: false,
    });
    const banner = await evaluate(ns, "ui%2Fbanner");
    expect(banner.status).toBe(200);
    expect(await banner.json()).toMatchObject({
      key: "ui/banner",
      reason: "STATIC",
      value: "hello",
    });
  });

  it("takes country and colo from the request when the context lacks them", async () => {
    const ns = freshNs();
    await put(`${ns}/beta`, beta);
    await put(`${ns}/where`, {
      state: "ENABLED",
      defaultVariant: "none",
      variants: { none: "none", fra: "fra" },
      targeting: { if: [{ "==": [{ var: "colo" }, "FRA"] }, "fra", null] },
    });
    const cf = { country: "DE", colo: "FRA" } as unknown as IncomingRequestCfProperties;
    const fromRequest = await evaluate(ns, "beta", { cf });
    expect(await fromRequest.json()).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
    expect(await (await evaluate(ns, "where", { cf })).json()).toMatchObject({ value: "fra" });
    const overridden = await evaluate(ns, "beta", { cf, ...withContext({ country: "US" }) });
    expect(await overridden.json()).toMatchObject({ value: false, reason: "DEFAULT" });
  });

  it("404 FLAG_NOT_FOUND; 400 for a flag that does not evaluate; DISABLED has no value", async () => {
    const ns = freshNs();
    await put(`${ns}/off`, { state: "DISABLED", defaultVariant: "a", variants: { a: 1 } });
    await put(`${ns}/bad`, {
      state: "ENABLED",
      defaultVariant: "a",
      variants: { a: 1 },
      targeting: { if: [true, "missing-variant", null] },
    });
    const missing = await evaluate(ns, "nope");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      key: "nope",
      errorCode: "FLAG_NOT_FOUND",
      errorDetails: "flag 'nope' was not found",
    });
    const bad = await evaluate(ns, "bad");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ key: "bad", errorCode: "GENERAL" });
    expect(await (await evaluate(ns, "off")).json()).toEqual({ key: "off", reason: "DISABLED" });
    const invalid = await evaluate(ns, "off", { body: '{"nocontext":1}' });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ key: "off", errorCode: "INVALID_CONTEXT" });
  });
});

describe("OFREP authorization is the read scope's", () => {
  it("401 without a token, 403 out of scope, 200 with read scope or public-read", async () => {
    const ns = freshNs();
    await seed(ns);
    expect((await evaluate(ns, undefined, { token: null })).status).toBe(401);
    const other = await mint([{ namespaces: [`${ns}-x`], ops: ["read"] }]);
    expect((await evaluate(ns, "beta", { token: other.token })).status).toBe(403);
    const reader = await mint([{ namespaces: [ns], ops: ["read"] }]);
    expect((await evaluate(ns, "beta", { token: reader.token })).status).toBe(200);
    await call(`/v1/ns/${ns}/settings`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ publicRead: true }),
    });
    expect((await evaluate(ns, undefined, { token: null })).status).toBe(200);
  });
});

describe("writes of flagd definitions", () => {
  it("422 schema-violation with the pointer; valid definitions and static values pass", async () => {
    const ns = freshNs();
    const bad = await put(`${ns}/beta`, { ...beta, variants: { on: true, off: "no" } });
    expect(bad.status).toBe(422);
    const p = await problemOf(bad);
    expect(p.type).toMatch(/\/schema-violation$/);
    expect(p.errors).toContainEqual(
      expect.objectContaining({ key: `${ns}/beta`, pointer: "/variants/off" }),
    );
    expect((await call(`/v1/kv/${ns}/beta`)).status).toBe(404);
    expect((await put(`${ns}/beta`, beta)).status).toBe(201);
    expect((await put(`${ns}/static`, { state: "x" })).status).toBe(201);
    const txn = await call("/v1/txn", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        compare: [],
        success: [{ type: "put", key: `${ns}/t`, value: { state: "ON", variants: { a: 1 } } }],
        failure: [],
      }),
    });
    expect(txn.status).toBe(422);
    expect((await problemOf(txn)).errors).toContainEqual(
      expect.objectContaining({ pointer: "/state" }),
    );
  });
});

describe("shared evaluators (.evaluators)", () => {
  it("are checked on write and used by OFREP evaluation", async () => {
    const ns = freshNs();
    const bad = await put(`${ns}/.evaluators`, { isStaff: { no_such_operator: [1] } });
    expect(bad.status).toBe(422);
    expect((await problemOf(bad)).type).toMatch(/\/schema-violation$/);
    expect((await put(`${ns}/.evaluators`, [1])).status).toBe(422);
    const isStaff = { ends_with: [{ var: "email" }, "@example.com"] };
    expect((await put(`${ns}/.evaluators`, { isStaff })).status).toBe(201);
    await put(`${ns}/beta`, { ...beta, targeting: { if: [{ $ref: "isStaff" }, "on", null] } });
    const staff = await evaluate(ns, "beta", withContext({ email: "a@example.com" }));
    expect(await staff.json()).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
    const all = (await (await evaluate(ns, undefined)).json()) as { flags: { key: string }[] };
    expect(all.flags.map((f) => f.key)).toEqual(["beta"]);
  });
});
