// Safe publishing over HTTP (http-api.md): ?dryRun=true on every write, POST /v1/ns/{ns}/apply
// and /rollback. Every answer is checked against the OpenAPI document (api/helpers.ts call).
import { describe, expect, it } from "vitest";
import { call, freshNs, mint, problemOf, put } from "./api/helpers.ts";

const json = { "Content-Type": "application/json" };

function post(path: string, body: unknown, token?: string) {
  return call(path, {
    method: "POST",
    headers: json,
    body: JSON.stringify(body),
    ...(token === undefined ? {} : { token }),
  });
}

async function bundleRevision(ns: string): Promise<number> {
  return ((await (await call(`/v1/ns/${ns}`)).json()) as { revision: number }).revision;
}

type DryRun = {
  dryRun: true;
  baseRevision: number;
  result: Record<string, unknown>;
  diff: Array<{ key: string; change: string; before?: unknown; after?: unknown }>;
};

describe("dry run", () => {
  it("of a PUT answers the status it would have and the diff, and writes nothing", async () => {
    const ns = freshNs();
    const created = await put(`${ns}/a?dryRun=true`, { n: 1 });
    expect(created.status).toBe(201);
    expect(created.headers.get("X-Edgecfg-Dry-Run")).toBe("true");
    const body = (await created.json()) as DryRun;
    expect(body).toMatchObject({ dryRun: true, baseRevision: 0, result: { key: `${ns}/a` } });
    expect(body.diff).toEqual([{ key: `${ns}/a`, change: "create", after: { n: 1 } }]);
    expect((await call(`/v1/kv/${ns}/a`)).status).toBe(404);
    expect(await bundleRevision(ns)).toBe(0);
    const browser = await call(`/v1/kv/${ns}/a?dryRun=true`, {
      method: "PUT",
      headers: { Origin: "https://app.example", "Content-Type": "text/plain" },
      body: "x",
    });
    expect(browser.headers.get("Access-Control-Expose-Headers")).toContain("X-Edgecfg-Dry-Run");

    const real = (await (await put(`${ns}/a`, { n: 1 })).json()) as { modRevision: number };
    const update = (await (await put(`${ns}/a?dryRun`, { n: 2 })).json()) as DryRun;
    expect(update.baseRevision).toBe(real.modRevision);
    expect(update.diff).toEqual([
      { key: `${ns}/a`, change: "update", before: { n: 1 }, after: { n: 2 } },
    ]);
    expect(await bundleRevision(ns)).toBe(real.modRevision);
    expect(await (await call(`/v1/kv/${ns}/a`)).json()).toEqual({ n: 1 });
  });

  it("answers the problem the write would, marked as a dry run", async () => {
    const ns = freshNs();
    await put(`${ns}/a`, "x");
    const stale = await put(`${ns}/a?dryRun=true`, "y", { "If-Match": '"r999999"' });
    expect(stale.status).toBe(412);
    expect(stale.headers.get("X-Edgecfg-Dry-Run")).toBe("true");
    expect(await problemOf(stale)).toMatchObject({ dryRun: true, currentETag: expect.any(String) });
    const reader = await mint([{ namespaces: [ns], ops: ["read"] }]);
    const forbidden = await call(`/v1/kv/${ns}/a?dryRun=true`, {
      method: "DELETE",
      token: reader.token,
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("X-Edgecfg-Dry-Run")).toBe("true");
  });

  it("of a DELETE and a txn lists what they would change", async () => {
    const ns = freshNs();
    await put(`${ns}/a`, "x");
    const del = await call(`/v1/kv/${ns}/a?dryRun=true`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(((await del.json()) as DryRun).diff).toEqual([
      {
        key: `${ns}/a`,
        change: "delete",
        before: { contentType: "text/plain;charset=UTF-8", base64: "eA==" },
      },
    ]);
    expect((await call(`/v1/kv/${ns}/a`)).status).toBe(200);
    const txn = await post("/v1/txn?dryRun=true", {
      compare: [{ key: `${ns}/a`, target: "exists", op: "=", value: true }],
      success: [
        { type: "delete", key: `${ns}/a` },
        { type: "put", key: `${ns}/b`, value: 1 },
      ],
    });
    const t = (await txn.json()) as DryRun;
    expect(t.result.succeeded).toBe(true);
    expect(t.diff.map((d) => [d.key, d.change])).toEqual([
      [`${ns}/a`, "delete"],
      [`${ns}/b`, "create"],
    ]);
    expect((await call(`/v1/kv/${ns}/b`)).status).toBe(404);
  });
});

describe("POST /v1/ns/{ns}/apply", () => {
  it("makes the namespace hold the entries in one revision; a repeat changes nothing", async () => {
    const ns = freshNs();
    await put(`${ns}/keep`, "kept", { "Content-Type": "text/plain" });
    const entries = {
      flags: { beta: true },
      "motd/en": { contentType: "text/plain", base64: btoa("hello") },
    };
    const first = await post(`/v1/ns/${ns}/apply`, { entries });
    expect(first.status).toBe(200);
    const done = (await first.json()) as { revision: number; changed: boolean; changes: unknown[] };
    expect(done.changed).toBe(true);
    expect(
      new Set(done.changes.map((c) => (c as { entry: { modRevision: number } }).entry.modRevision)),
    ).toEqual(new Set([done.revision]));
    expect(first.headers.get("ETag")).toBe(`"r${done.revision}"`);
    expect(await (await call(`/v1/kv/${ns}/motd/en`)).text()).toBe("hello");
    expect(await (await call(`/v1/kv/${ns}/keep`)).text()).toBe("kept");

    const again = (await (await post(`/v1/ns/${ns}/apply`, { entries })).json()) as typeof done;
    expect(again).toMatchObject({ revision: done.revision, changed: false, changes: [] });
  });

  it("prunes on request, and with a stale ifRevision answers 412 and writes nothing", async () => {
    const ns = freshNs();
    await put(`${ns}/old`, 1);
    const base = await bundleRevision(ns);
    await put(`${ns}/other`, 2); // someone else writes after the plan was made
    const stale = await post(`/v1/ns/${ns}/apply`, {
      entries: { n: 1 },
      prune: true,
      ifRevision: base,
    });
    expect(stale.status).toBe(412);
    expect(await problemOf(stale)).toMatchObject({ namespaceRevision: base + 1 });
    expect((await call(`/v1/kv/${ns}/old`)).status).toBe(200);
    const plan = await post(`/v1/ns/${ns}/apply?dryRun=true`, {
      entries: { n: 1 },
      prune: true,
      ifRevision: base + 1,
    });
    const p = (await plan.json()) as DryRun;
    expect(p.baseRevision).toBe(base + 1);
    expect(p.diff.map((d) => [d.key, d.change])).toEqual([
      [`${ns}/n`, "create"],
      [`${ns}/old`, "delete"],
      [`${ns}/other`, "delete"],
    ]);
    expect(await bundleRevision(ns)).toBe(base + 1);
    const applied = await post(`/v1/ns/${ns}/apply`, {
      entries: { n: 1 },
      prune: true,
      ifRevision: p.baseRevision,
    });
    expect(applied.status).toBe(200);
    expect(
      Object.keys(((await (await call(`/v1/ns/${ns}`)).json()) as { entries: object }).entries),
    ).toEqual(["n"]);
  });

  it("applies 1,000 entries in one request", async () => {
    const ns = freshNs();
    const entries = Object.fromEntries(
      Array.from({ length: 1000 }, (_, i) => [
        `k${String(i).padStart(4, "0")}`,
        { i, on: i % 2 === 0 },
      ]),
    );
    const res = await post(`/v1/ns/${ns}/apply`, { entries });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { changes: unknown[]; revision: number };
    expect(body.changes.length).toBe(1000);
    const bundle = (await (await call(`/v1/ns/${ns}`)).json()) as {
      entries: object;
      revision: number;
    };
    expect(Object.keys(bundle.entries).length).toBe(1000);
    expect(bundle.revision).toBe(body.revision);
  });

  it("refuses a bad name or value with 400 before anything is written", async () => {
    const ns = freshNs();
    const bad = await post(`/v1/ns/${ns}/apply`, { entries: { ok: 1, "..": 2 } });
    expect(bad.status).toBe(400);
    const badB64 = await post(`/v1/ns/${ns}/apply`, {
      entries: { x: { contentType: "text/plain", base64: "%%%" } },
    });
    expect(badB64.status).toBe(400);
    expect(await bundleRevision(ns)).toBe(0);
  });
});

describe("POST /v1/ns/{ns}/rollback", () => {
  it("restores the entries of an old revision as one new revision", async () => {
    const ns = freshNs();
    await post(`/v1/ns/${ns}/apply`, { entries: { a: 1, b: 2 } });
    const good = await bundleRevision(ns);
    await post(`/v1/ns/${ns}/apply`, { entries: { a: 10, c: 3 }, prune: true });
    const dry = (await (
      await post(`/v1/ns/${ns}/rollback?dryRun=true`, { toRevision: good })
    ).json()) as DryRun;
    expect(dry.diff.map((d) => [d.key, d.change])).toEqual([
      [`${ns}/a`, "update"],
      [`${ns}/b`, "create"],
      [`${ns}/c`, "delete"],
    ]);
    const res = await post(`/v1/ns/${ns}/rollback`, { toRevision: good });
    expect(res.status).toBe(200);
    const bundle = (await (await call(`/v1/ns/${ns}`)).json()) as { entries: object };
    expect(bundle.entries).toEqual({ a: 1, b: 2 });
    const ahead = await post(`/v1/ns/${ns}/rollback`, { toRevision: 1e12 });
    expect(ahead.status).toBe(400);
  });

  it("answers 410 once the state at toRevision is no longer retained, dry run or not", async () => {
    const ns = freshNs();
    const first = ((await (await put(`${ns}/k`, { v: 0 })).json()) as { modRevision: number })
      .modRevision;
    for (let i = 1; i <= 100; i++) await put(`${ns}/k`, { v: i }); // 100 versions are kept
    const dry = await post(`/v1/ns/${ns}/rollback?dryRun=true`, { toRevision: first });
    expect(dry.status).toBe(410);
    expect(await problemOf(dry)).toMatchObject({
      dryRun: true,
      type: expect.stringMatching(/compacted$/),
    });
    const res = await post(`/v1/ns/${ns}/rollback`, { toRevision: first });
    expect(res.status).toBe(410);
    expect((await problemOf(res)).detail).toContain("no longer retained");
    expect(await (await call(`/v1/kv/${ns}/k`)).json()).toEqual({ v: 100 });
  });
});
