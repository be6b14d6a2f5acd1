// Malformed keys are 400 everywhere a key can appear, and nothing is written.
import { describe, expect, it } from "vitest";
import { call, freshNs, problemOf, put } from "./api/helpers.ts";

async function expect400(res: Response, detailPart: string) {
  expect(res.status).toBe(400);
  expect((await problemOf(res)).detail).toContain(detailPart);
}

describe("key grammar in URLs", () => {
  it("rejects empty segments, non-ASCII, bad namespaces and overlong keys", async () => {
    const ns = freshNs();
    await expect400(await put(`${ns}/a//b`, { v: 1 }), "segment");
    await expect400(await put(`${ns}/a/`, { v: 1 }), "segment");
    await expect400(await put(`${ns}/caf%C3%A9`, { v: 1 }), "segment");
    await expect400(await put(`${ns}/a%2F%2Fb`, { v: 1 }), "segment");
    await expect400(await put(`${ns}/a%2F`, { v: 1 }), "segment");
    await expect400(await put(`${ns}`, { v: 1 }), "{namespace}/{name}");
    await expect400(await put(`Upper/k`, { v: 1 }), "namespace");
    await expect400(await put(`${ns}/sp%20ace`, { v: 1 }), "segment");
    await expect400(await put(`${ns}/bad%ZZ`, { v: 1 }), "percent-encoding");
    const long =
      `${ns}/${"a".repeat(128)}/${"b".repeat(128)}/${"c".repeat(128)}/${"d".repeat(128)}`.slice(
        0,
        513,
      );
    expect(long.length).toBe(513);
    await expect400(await put(long, { v: 1 }), "512 bytes");
    await expect400(await put(`${ns}/${"x".repeat(129)}`, { v: 1 }), "{1,128}");
    const list = (await (await call(`/v1/kv?prefix=${ns}/`)).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
  });

  it("an encoded slash (%2F) separates segments like / itself: /v1/kv/{namespace}/{name} with the name encoded", async () => {
    const ns = freshNs();
    const created = await put(`${ns}/a%2Fb%2fc`, { v: 1 });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { key: string }).key).toBe(`${ns}/a/b/c`);
    expect(await (await call(`/v1/kv/${ns}/a/b/c`)).json()).toEqual({ v: 1 });
    expect((await put(`${ns}/a/b%2Fc`, { v: 2 })).status).toBe(200);
    expect(await (await call(`/v1/kv/${ns}%2Fa%2Fb%2Fc`)).json()).toEqual({ v: 2 });
    const history = await call(`/v1/kv/${ns}/a%2Fb%2Fc/history`);
    expect(((await history.json()) as { items: unknown[] }).items).toHaveLength(2);
    await expect400(await put(`${ns}/a%2Fhistory`, { v: 1 }), "history");
    expect((await call(`/v1/kv/${ns}%2Fa%2Fb%2Fc`, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/v1/kv/${ns}/a/b/c`)).status).toBe(404);
  });

  it("accepts the full grammar: 512-byte keys, 128-character segments, ._~- characters", async () => {
    const ns = freshNs();
    const head = `${ns}/`;
    const segs = [];
    let key = head;
    while (key.length < 512) {
      const seg = "s".repeat(Math.min(128, 512 - key.length - (key === head ? 0 : 1)));
      if (seg.length === 0) break;
      segs.push(seg);
      key = head + segs.join("/");
    }
    expect(key.length).toBe(512);
    expect((await put(key, { v: 1 })).status).toBe(201);
    expect((await put(`${ns}/A.b_c~d-e/...`, { v: 1 })).status).toBe(201);
    expect((await call(`/v1/kv/${ns}/A.b_c~d-e/...`)).status).toBe(200);
  });

  it("keys are case-sensitive", async () => {
    const ns = freshNs();
    await put(`${ns}/Key`, "upper");
    await put(`${ns}/key`, "lower");
    expect(await (await call(`/v1/kv/${ns}/Key`)).text()).toBe("upper");
    expect(await (await call(`/v1/kv/${ns}/key`)).text()).toBe("lower");
  });

  it("dot segments: resolved by URL parsing before the Worker, rejected wherever they survive", async () => {
    const ns = freshNs();
    // new URL() removes "/a/.." (RFC 3986 §5.2.4): what arrives is /v1/kv/{ns}/b, a valid key.
    expect(new URL(`http://x/v1/kv/${ns}/a/../b`).pathname).toBe(`/v1/kv/${ns}/b`);
    const viaTxn = await call("/v1/txn", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ success: [{ type: "put", key: `${ns}/../x`, value: 1 }] }),
    });
    await expect400(viaTxn, '".."');
    const dot = await call("/v1/txn", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ success: [{ type: "put", key: `${ns}/a/./b`, value: 1 }] }),
    });
    await expect400(dot, '"."');
    await expect400(await call(`/v1/kv?prefix=${ns}/a//`), "prefix");
  });

  it("a key may not end in the reserved segment history", async () => {
    const ns = freshNs();
    await expect400(await put(`${ns}/a/history`, { v: 1 }), "history");
    expect((await put(`${ns}/history/a`, { v: 1 })).status).toBe(201);
    await expect400(await call(`/v1/kv/${ns}/history`), "history");
  });
});
