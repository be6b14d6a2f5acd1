// POST /v1/txn and Idempotency-Key.
import { describe, expect, it } from "vitest";
import { call, freshNs, mint, problemOf, put } from "./api/helpers.ts";

function txn(body: unknown, headers: Record<string, string> = {}) {
  return call("/v1/txn", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

type TxnBody = { succeeded: boolean; revision: number; results: Array<Record<string, unknown>> };

describe("POST /v1/txn", () => {
  it("runs success when every compare holds, failure otherwise, atomically", async () => {
    const ns = freshNs();
    const e = (await (await put(`${ns}/a`, { n: 1 })).json()) as { modRevision: number };
    const ok = await txn({
      compare: [
        { key: `${ns}/a`, target: "modRevision", op: "=", value: e.modRevision },
        { key: `${ns}/b`, target: "exists", op: "=", value: false },
      ],
      success: [
        { type: "put", key: `${ns}/a`, value: { n: 2 } },
        { type: "put", key: `${ns}/b`, value: "bee", contentType: "text/plain" },
        { type: "get", key: `${ns}/a` },
      ],
      failure: [{ type: "get", key: `${ns}/a` }],
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("X-Edgecfg-Revision")).toMatch(/^s\d+\.\d+$/);
    const body = (await ok.json()) as TxnBody;
    expect(body.succeeded).toBe(true);
    expect(body.results.map((r) => r.type)).toEqual(["put", "put", "get"]);
    expect(body.results[2]!.value).toEqual({ n: 2 });
    expect(await (await call(`/v1/kv/${ns}/b`)).text()).toBe("bee");

    const failed = (await (
      await txn({
        compare: [{ key: `${ns}/a`, target: "version", op: "<", value: 2 }],
        success: [{ type: "delete", key: `${ns}/a` }],
        failure: [
          { type: "get", key: `${ns}/a` },
          { type: "get", key: `${ns}/zzz` },
        ],
      })
    ).json()) as TxnBody;
    expect(failed.succeeded).toBe(false);
    expect(failed.results[0]!.value).toEqual({ n: 2 });
    expect(failed.results[1]!.entry).toBeNull();

    const byValue = (await (
      await txn({
        compare: [{ key: `${ns}/b`, target: "value", op: "=", valueBase64: btoa("bee") }],
        success: [{ type: "delete", key: `${ns}/b` }],
      })
    ).json()) as TxnBody;
    expect(byValue.succeeded).toBe(true);
    expect((await call(`/v1/kv/${ns}/b`)).status).toBe(404);
  });

  it("rejects bad bodies with 400/415 naming the problem", async () => {
    const ns = freshNs();
    const notJson = await call("/v1/txn", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{",
    });
    expect((await problemOf(notJson)).detail).toContain("does not parse");
    expect(
      (
        await call("/v1/txn", {
          method: "POST",
          headers: { "Content-Type": "text/plain" },
          body: "{}",
        })
      ).status,
    ).toBe(415);
    expect((await problemOf(await txn({}))).detail).toContain("names no key");
    expect(
      (await problemOf(await txn({ success: [{ type: "put", key: `${ns}/x` }] }))).detail,
    ).toContain("exactly one of value");
    expect(
      (await problemOf(await txn({ success: [{ type: "frobnicate", key: `${ns}/x` }] }))).status,
    ).toBe(400);
    expect((await problemOf(await txn({ success: [], extra: 1 }))).detail).toContain("extra");
    expect(
      (
        await problemOf(
          await txn({ compare: [{ key: `${ns}/x`, target: "version", op: "~", value: 1 }] }),
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await problemOf(
          await txn({
            success: [{ type: "put", key: `${ns}/x`, value: 1, contentType: "text/plain" }],
          }),
        )
      ).detail,
    ).toContain("string");
    const many = Array.from({ length: 129 }, (_, i) => ({ type: "get", key: `${ns}/k${i}` }));
    expect((await problemOf(await txn({ success: many }))).detail).toContain("128");
  });

  it("an oversized value inside a txn is 413, like a PUT of it, and nothing is written", async () => {
    const ns = freshNs();
    const big = "x".repeat(1024 * 1024 + 1);
    const asPut = await put(`${ns}/big`, big, { "Content-Type": "text/plain" });
    expect(asPut.status).toBe(413);
    for (const op of [
      { type: "put", key: `${ns}/big`, value: big, contentType: "text/plain" },
      { type: "put", key: `${ns}/big`, valueBase64: btoa(big) },
    ]) {
      const res = await txn({ success: [{ type: "put", key: `${ns}/small`, value: 1 }, op] });
      expect(res.status).toBe(413);
      const p = await problemOf(res);
      expect(p.type).toBe((await problemOf(asPut.clone())).type);
      expect(p.detail).toContain("success[1]");
    }
    expect((await call(`/v1/kv/${ns}/small`)).status).toBe(404);
  });
});

describe("Idempotency-Key", () => {
  it("a retried PUT returns the first outcome and applies once", async () => {
    const ns = freshNs();
    const first = await put(`${ns}/k`, { v: 1 }, { "Idempotency-Key": "put-1" });
    expect(first.status).toBe(201);
    const firstBody = await first.json();
    const retry = await put(`${ns}/k`, { v: 1 }, { "Idempotency-Key": "put-1" });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await retry.json()).toEqual(firstBody);
    const meta = (await (await call(`/v1/kv/${ns}/k?meta`)).json()) as { version: number };
    expect(meta.version).toBe(1);
  });

  it("a retried DELETE and txn return the first outcome", async () => {
    const ns = freshNs();
    await put(`${ns}/k`, { v: 1 });
    expect(
      (await call(`/v1/kv/${ns}/k`, { method: "DELETE", headers: { "Idempotency-Key": "del-1" } }))
        .status,
    ).toBe(204);
    expect(
      (await call(`/v1/kv/${ns}/k`, { method: "DELETE", headers: { "Idempotency-Key": "del-1" } }))
        .status,
    ).toBe(204);
    const body = { success: [{ type: "put", key: `${ns}/counter`, value: 1 }] };
    const t1 = (await (await txn(body, { "Idempotency-Key": "txn-1" })).json()) as TxnBody;
    const t2 = (await (await txn(body, { "Idempotency-Key": "txn-1" })).json()) as TxnBody;
    expect(t2).toEqual(t1);
    expect(
      ((await (await call(`/v1/kv/${ns}/counter?meta`)).json()) as { version: number }).version,
    ).toBe(1);
  });

  it("keys are scoped per caller: another token reusing a key never gets the first answer", async () => {
    const ns = freshNs();
    const writer = await mint([{ namespaces: [ns], ops: ["write"] }]);
    const other = await mint([{ namespaces: [ns], ops: ["write"] }]);
    const first = await put(`${ns}/k`, { by: "admin" }, { "Idempotency-Key": "deploy-1" });
    expect(first.status).toBe(201);
    // Same key, same request, another caller: applied as its own write, not replayed.
    const same = await put(
      `${ns}/k`,
      { by: "admin" },
      { "Idempotency-Key": "deploy-1" },
      writer.token,
    );
    expect(same.status).toBe(200);
    expect(same.headers.get("Idempotent-Replayed")).toBeNull();
    // Same key, another request, another caller: its own write, not a 422 about someone else's.
    const diff = await put(
      `${ns}/k`,
      { by: "other" },
      { "Idempotency-Key": "deploy-1" },
      other.token,
    );
    expect(diff.status).toBe(200);
    expect(((await diff.json()) as { version: number }).version).toBe(3);
    // Each caller's retry still replays its own first outcome.
    const retry = await put(
      `${ns}/k`,
      { by: "other" },
      { "Idempotency-Key": "deploy-1" },
      other.token,
    );
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(((await retry.json()) as { version: number }).version).toBe(3);
    const adminRetry = await put(`${ns}/k`, { by: "admin" }, { "Idempotency-Key": "deploy-1" });
    expect(adminRetry.status).toBe(201);
    expect(adminRetry.headers.get("Idempotent-Replayed")).toBe("true");
    // The longest key a client may send still works once scoped (kept by its hash).
    const long = "k".repeat(255);
    expect((await put(`${ns}/l`, 1, { "Idempotency-Key": long }, writer.token)).status).toBe(201);
    const again = await put(`${ns}/l`, 1, { "Idempotency-Key": long }, writer.token);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
  });

  it("reusing a key for a different request is 422; malformed keys are 400", async () => {
    const ns = freshNs();
    await put(`${ns}/k`, { v: 1 }, { "Idempotency-Key": "same" });
    const other = await put(`${ns}/k`, { v: 2 }, { "Idempotency-Key": "same" });
    expect(other.status).toBe(422);
    expect((await problemOf(other)).detail).toContain("already used for a different request");
    expect((await put(`${ns}/k`, { v: 2 }, { "Idempotency-Key": "x".repeat(256) })).status).toBe(
      400,
    );
    expect((await put(`${ns}/k`, { v: 2 }, { "Idempotency-Key": "has space" })).status).toBe(400);
  });
});
