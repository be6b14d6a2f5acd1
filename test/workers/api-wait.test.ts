// Long polls: ?wait= with If-None-Match, on keys and on namespace bundles.
import { describe, expect, it } from "vitest";
import { call, freshNs, problemOf, put } from "./api/helpers.ts";

describe("?wait= long polls", () => {
  it("a key poll returns as soon as the ETag differs", async () => {
    const ns = freshNs();
    const etag = (await put(`${ns}/k`, { v: 1 })).headers.get("ETag")!;
    const started = Date.now();
    const polling = call(`/v1/kv/${ns}/k?wait=20s`, { headers: { "If-None-Match": etag } });
    await new Promise((r) => setTimeout(r, 150));
    await put(`${ns}/other`, { v: 0 }); // another key: does not end the poll
    await put(`${ns}/k`, { v: 2 });
    const res = await polling;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ v: 2 });
    expect(res.headers.get("ETag")).not.toBe(etag);
    // Well before the 20 s wait ran out: the write ended it (a busy machine may take seconds).
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("a poll whose ETag is already stale returns at once; one that times out is 304", async () => {
    const ns = freshNs();
    const e1 = (await put(`${ns}/k`, { v: 1 })).headers.get("ETag")!;
    const e2 = (await put(`${ns}/k`, { v: 2 })).headers.get("ETag")!;
    expect(
      (await call(`/v1/kv/${ns}/k?wait=30s`, { headers: { "If-None-Match": e1 } })).status,
    ).toBe(200);
    const timedOut = await call(`/v1/kv/${ns}/k?wait=300ms`, { headers: { "If-None-Match": e2 } });
    expect(timedOut.status).toBe(304);
    expect(timedOut.headers.get("ETag")).toBe(e2);
  });

  it("a delete ends a key poll with 404", async () => {
    const ns = freshNs();
    const etag = (await put(`${ns}/k`, { v: 1 })).headers.get("ETag")!;
    const polling = call(`/v1/kv/${ns}/k?wait=20s`, { headers: { "If-None-Match": etag } });
    await new Promise((r) => setTimeout(r, 100));
    await call(`/v1/kv/${ns}/k`, { method: "DELETE" });
    expect((await polling).status).toBe(404);
  });

  it("a bundle poll returns on any write to the namespace", async () => {
    const ns = freshNs();
    await put(`${ns}/a`, 1);
    const etag = (await call(`/v1/ns/${ns}`)).headers.get("ETag")!;
    const polling = call(`/v1/ns/${ns}?wait=20s`, { headers: { "If-None-Match": etag } });
    await new Promise((r) => setTimeout(r, 100));
    await put(`${freshNs()}/elsewhere`, 1);
    await put(`${ns}/b`, 2);
    const res = await polling;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { entries: Record<string, unknown> }).entries).toEqual({
      a: 1,
      b: 2,
    });
  });

  it("rejects waits over 60 s, malformed durations and wait with revision", async () => {
    const ns = freshNs();
    await put(`${ns}/k`, 1);
    expect((await problemOf(await call(`/v1/kv/${ns}/k?wait=61s`))).detail).toContain("60 s");
    expect((await call(`/v1/kv/${ns}/k?wait=2m`)).status).toBe(400);
    expect((await call(`/v1/kv/${ns}/k?wait=soon`)).status).toBe(400);
    expect((await call(`/v1/kv/${ns}/k?wait=1s&revision=1`)).status).toBe(400);
    expect((await call(`/v1/kv/${ns}/k?wait=60s`)).status).toBe(200); // no If-None-Match: answers at once
  });
});
