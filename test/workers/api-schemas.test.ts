// Schemas per name prefix (http-api.md "Safe publishing") through the Worker as deployed: set and
// read in the namespace's settings, enforced on PUT and txn with 422 schema-violation, a change
// that stored values break refused unless forced. Every answer is checked against the OpenAPI
// document by call() (api/contract.ts).
import { describe, expect, it } from "vitest";
import { call, freshNs, problemOf, put } from "./api/helpers.ts";

const flag = {
  type: "object",
  properties: { enabled: { type: "boolean" }, rollout: { type: "integer", maximum: 100 } },
  required: ["enabled"],
};

function settings(ns: string, body: unknown, query = "") {
  return call(`/v1/ns/${ns}/settings${query}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

function txnPut(key: string, value: unknown, contentType?: string) {
  const op = { type: "put", key, value, ...(contentType ? { contentType } : {}) };
  return call("/v1/txn", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ compare: [], success: [op], failure: [] }),
  });
}

describe("schemas in a namespace's settings", () => {
  it("are set and read back with publicRead, which a schemas-only PUT leaves as it is", async () => {
    const ns = freshNs();
    expect((await settings(ns, { publicRead: true })).status).toBe(200);
    const set = await settings(ns, { schemas: { "flags/": flag } });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({
      namespace: ns,
      publicRead: true,
      schemas: { "flags/": flag },
    });
    const got = await call(`/v1/ns/${ns}/settings`);
    expect(await got.json()).toEqual({
      namespace: ns,
      publicRead: true,
      schemas: { "flags/": flag },
    });
    await settings(ns, { publicRead: false });
    const after = await (await call(`/v1/ns/${ns}/settings`)).json();
    expect(after).toEqual({ namespace: ns, publicRead: false, schemas: { "flags/": flag } });
  });

  it("refuse what is no JSON Schema with 400 and the reason, and an empty body", async () => {
    const ns = freshNs();
    const bad = await settings(ns, { schemas: { "": { type: "objekt" } } });
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).detail).toMatch(
      /schema of prefix "" is not a JSON Schema 2020-12: at "\/type"/,
    );
    const ref = await settings(ns, { schemas: { "": { $ref: "https://example.com/s.json" } } });
    expect((await problemOf(ref)).detail).toMatch(/points nowhere inside it/);
    expect((await settings(ns, {})).status).toBe(400);
    expect(await (await call(`/v1/ns/${ns}/settings`)).json()).toMatchObject({ schemas: {} });
  });
});

describe("a write under a schema", () => {
  it("PUT: 422 schema-violation with errors [{key, pointer, message}], nothing written; a conforming value 201", async () => {
    const ns = freshNs();
    await settings(ns, { schemas: { "flags/": flag } });
    const bad = await put(`${ns}/flags/beta`, { enabled: "yes", rollout: 120 });
    expect(bad.status).toBe(422);
    const p = await problemOf(bad);
    expect(p.type).toMatch(/\/schema-violation$/);
    expect(p.errors).toEqual([
      {
        key: `${ns}/flags/beta`,
        pointer: "/enabled",
        message: expect.stringMatching(/Expected "boolean"/),
      },
      { key: `${ns}/flags/beta`, pointer: "/rollout", message: "120 is greater than 100" },
    ]);
    expect(p.detail).toMatch(/nothing was written/);
    expect((await call(`/v1/kv/${ns}/flags/beta`)).status).toBe(404);
    expect((await put(`${ns}/flags/beta`, { enabled: true })).status).toBe(201);
    expect((await put(`${ns}/notes`, "free text")).status).toBe(201);
  });

  it("PUT of another content type under a matching prefix: 422, JSON values only", async () => {
    const ns = freshNs();
    await settings(ns, { schemas: { "flags/": flag } });
    const res = await put(`${ns}/flags/beta`, "enabled=true", { "Content-Type": "text/plain" });
    expect(res.status).toBe(422);
    expect((await problemOf(res)).errors).toEqual([
      expect.objectContaining({ pointer: "", message: expect.stringMatching(/JSON values only/) }),
    ]);
  });

  it("txn: 422 schema-violation for a put that breaks the schema, nothing written", async () => {
    const ns = freshNs();
    await settings(ns, { schemas: { "": { type: "object" } } });
    const res = await txnPut(`${ns}/x`, [1, 2]);
    expect(res.status).toBe(422);
    expect((await problemOf(res)).errors).toEqual([
      expect.objectContaining({ key: `${ns}/x`, pointer: "" }),
    ]);
    expect((await call(`/v1/kv/${ns}/x`)).status).toBe(404);
    expect((await txnPut(`${ns}/x`, { a: 1 })).status).toBe(200);
  });
});

describe("a schema change over stored values", () => {
  it("is refused with 422 listing the values that break it, and set with force=true", async () => {
    const ns = freshNs();
    await put(`${ns}/flags/a`, { enabled: true });
    await put(`${ns}/flags/b`, { enabled: 1 });
    const refused = await settings(ns, { schemas: { "flags/": flag } });
    expect(refused.status).toBe(422);
    const p = await problemOf(refused);
    expect(p.type).toMatch(/\/schema-violation$/);
    expect(p.errors).toEqual([
      expect.objectContaining({ key: `${ns}/flags/b`, pointer: "/enabled" }),
    ]);
    expect(p.detail).toMatch(/force=true/);
    expect(await (await call(`/v1/ns/${ns}/settings`)).json()).toMatchObject({ schemas: {} });
    const forced = await settings(ns, { schemas: { "flags/": flag } }, "?force=true");
    expect(forced.status).toBe(200);
    expect((await put(`${ns}/flags/b`, { enabled: 2 })).status).toBe(422);
    expect((await settings(ns, { schemas: {} })).status).toBe(200);
    expect((await put(`${ns}/flags/b`, { enabled: 2 })).status).toBe(200);
  });
});

describe("a schema change racing writes over HTTP (through Raft, the leader's verdict)", () => {
  it("never leaves a value the schemas in force refuse, whichever commits first", async () => {
    let strictWon = 0;
    for (let round = 0; round < 4; round++) {
      const ns = freshNs();
      await settings(ns, { schemas: { "flags/": { type: "object" } } });
      // The change first, the writes right behind it: writes the leader judged by the loose
      // schema may commit after the strict one, and must then be judged again.
      const change = settings(ns, { schemas: { "flags/": flag } });
      const writes = Array.from({ length: 24 }, (_, i) =>
        put(`${ns}/flags/w${i}`, { enabled: i % 3 === 0 ? true : "no" }),
      );
      const answers = await Promise.all([change, ...writes]);
      for (const a of answers) expect([200, 201, 422]).toContain(a.status);
      if (answers[0]!.status !== 200) continue;
      strictWon += 1;
      const listed = (await (await call(`/v1/kv?prefix=${ns}/flags/&values=true`)).json()) as {
        items: { key: string; value: { enabled: unknown } }[];
      };
      const broken = listed.items.filter((i) => typeof i.value.enabled !== "boolean");
      expect(broken.map((i) => i.key)).toEqual([]);
    }
    expect(
      strictWon,
      "the strict schema never committed first: the race was not run",
    ).toBeGreaterThan(0);
  });
});
