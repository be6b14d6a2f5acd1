import { describe, expect, it } from "vitest";
import { call, freshNs, problemOf, put } from "./api/helpers.ts";

describe("GET/PUT/DELETE /v1/kv/{key}", () => {
  it("creates (201), updates (200), reads byte for byte with validators", async () => {
    const ns = freshNs();
    const created = await put(`${ns}/flags`, { a: 1 });
    expect(created.status).toBe(201);
    const entry = (await created.json()) as Record<string, unknown>;
    expect(entry).toMatchObject({
      key: `${ns}/flags`,
      contentType: "application/json",
      size: 7,
      version: 1,
    });
    expect(created.headers.get("ETag")).toBe(`"r${entry.modRevision}"`);
    expect(created.headers.get("X-Edgecfg-Revision")).toMatch(/^s\d+\.\d+$/);

    const updated = await put(`${ns}/flags`, "hello", {
      "Content-Type": "text/plain; charset=utf-8",
    });
    expect(updated.status).toBe(200);
    const e2 = (await updated.json()) as Record<string, number>;
    expect(e2.version).toBe(2);

    const got = await call(`/v1/kv/${ns}/flags`);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe("hello");
    expect(got.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    expect(got.headers.get("ETag")).toBe(`"r${e2.modRevision}"`);
    expect(got.headers.get("X-Edgecfg-Version")).toBe("2");
    expect(got.headers.get("Last-Modified")).toMatch(/GMT$/);
    expect(got.headers.get("X-Edgecfg-Revision")).toMatch(/^s\d+\.\d+$/);
  });

  it("answers 304 to a matching If-None-Match and 404 to a missing key", async () => {
    const ns = freshNs();
    const etag = (await put(`${ns}/k`, { v: 1 })).headers.get("ETag")!;
    const res = await call(`/v1/kv/${ns}/k`, { headers: { "If-None-Match": etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get("ETag")).toBe(etag);
    const missing = await call(`/v1/kv/${ns}/nope`);
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).detail).toContain("does not exist");
  });

  it("deletes: 204, then 404", async () => {
    const ns = freshNs();
    await put(`${ns}/k`, { v: 1 });
    expect((await call(`/v1/kv/${ns}/k`, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/v1/kv/${ns}/k`, { method: "DELETE" })).status).toBe(404);
    expect((await call(`/v1/kv/${ns}/k`)).status).toBe(404);
  });
});

describe("PUT preconditions", () => {
  it("If-Match with the current strong ETag writes; a stale one gets 412 with currentETag and entry", async () => {
    const ns = freshNs();
    const e1 = (await put(`${ns}/k`, { v: 1 })).headers.get("ETag")!;
    const ok = await put(`${ns}/k`, { v: 2 }, { "If-Match": e1 });
    expect(ok.status).toBe(200);
    const e2 = ok.headers.get("ETag")!;
    const stale = await put(`${ns}/k`, { v: 3 }, { "If-Match": e1 });
    expect(stale.status).toBe(412);
    expect(stale.headers.get("X-Edgecfg-Revision")).toMatch(/^s\d+\.\d+$/);
    const p = await problemOf(stale);
    expect(p.currentETag).toBe(e2);
    expect(p.entry).toMatchObject({ key: `${ns}/k`, version: 2 });
    expect(await (await call(`/v1/kv/${ns}/k`)).json()).toEqual({ v: 2 });
  });

  it("If-Match on an absent key: 412 saying it does not exist", async () => {
    const ns = freshNs();
    const res = await put(`${ns}/absent`, { v: 1 }, { "If-Match": '"r1"' });
    expect(res.status).toBe(412);
    const p = await problemOf(res);
    expect(p.detail).toContain("does not exist");
    expect(p.currentETag).toBeNull();
  });

  it("rejects malformed If-Match with 400 and writes nothing", async () => {
    const ns = freshNs();
    const etag = (await put(`${ns}/k`, { v: 1 })).headers.get("ETag")!;
    for (const bad of ["r1", '"r1', "W/r1", '"a b"', ",", '"r1", "r2"']) {
      const res = await put(`${ns}/k`, { v: 9 }, { "If-Match": bad });
      expect(res.status, bad).toBe(400);
      expect((await problemOf(res)).detail).toMatch(/If-Match/);
    }
    expect((await call(`/v1/kv/${ns}/k`)).headers.get("ETag")).toBe(etag);
  });

  it("a well-formed ETag that is not current (weak, foreign, non-canonical) is 412 (RFC 9110 strong comparison)", async () => {
    const ns = freshNs();
    const etag = (await put(`${ns}/k`, { v: 1 })).headers.get("ETag")!;
    const padded = etag.replace('"r', '"r0');
    for (const foreign of [`W/${etag}`, '"nope"', '"r-1"', '""', padded, '"x", "y"']) {
      const res = await put(`${ns}/k`, { v: 9 }, { "If-Match": foreign });
      expect(res.status, foreign).toBe(412);
      const p = await problemOf(res);
      expect(p.currentETag, foreign).toBe(etag);
      expect(p.entry, foreign).toMatchObject({ version: 1 });
    }
    // A list that holds the current one among foreign tags matches.
    expect((await put(`${ns}/k`, { v: 2 }, { "If-Match": `"nope", ${etag}` })).status).toBe(200);
    const absent = await put(`${ns}/absent`, { v: 1 }, { "If-Match": '"nope"' });
    expect(absent.status).toBe(412);
    expect((await problemOf(absent)).currentETag).toBeNull();
    expect(await (await call(`/v1/kv/${ns}/k`)).json()).toEqual({ v: 2 });
  });

  it("If-Match: * updates only an existing key", async () => {
    const ns = freshNs();
    expect((await put(`${ns}/k`, { v: 1 }, { "If-Match": "*" })).status).toBe(412);
    expect((await call(`/v1/kv/${ns}/k`)).status).toBe(404);
    await put(`${ns}/k`, { v: 1 });
    expect((await put(`${ns}/k`, { v: 2 }, { "If-Match": "*" })).status).toBe(200);
  });

  it("If-None-Match: * creates only", async () => {
    const ns = freshNs();
    expect((await put(`${ns}/k`, { v: 1 }, { "If-None-Match": "*" })).status).toBe(201);
    const again = await put(`${ns}/k`, { v: 2 }, { "If-None-Match": "*" });
    expect(again.status).toBe(412);
    expect((await problemOf(again)).entry).toMatchObject({ version: 1 });
    expect((await put(`${ns}/k`, { v: 2 }, { "If-None-Match": '"r1"' })).status).toBe(400);
    expect((await put(`${ns}/k`, { v: 2 }, { "If-None-Match": "*", "If-Match": "*" })).status).toBe(
      400,
    );
  });

  it("an ETag never repeats across delete and re-create (no ABA)", async () => {
    const ns = freshNs();
    const e1 = (await put(`${ns}/k`, { v: 1 })).headers.get("ETag")!;
    await call(`/v1/kv/${ns}/k`, { method: "DELETE" });
    const e2 = (await put(`${ns}/k`, { v: 1 })).headers.get("ETag")!;
    expect(e2).not.toBe(e1);
    expect((await put(`${ns}/k`, { v: 2 }, { "If-Match": e1 })).status).toBe(412);
    const meta = (await (await call(`/v1/kv/${ns}/k?meta`)).json()) as { version: number };
    expect(meta.version).toBe(1);
  });
});

describe("DELETE preconditions", () => {
  it("204 with the right ETag, 412 with a stale one, 412 for If-Match: * on an absent key", async () => {
    const ns = freshNs();
    const e1 = (await put(`${ns}/k`, { v: 1 })).headers.get("ETag")!;
    await put(`${ns}/k`, { v: 2 });
    const stale = await call(`/v1/kv/${ns}/k`, { method: "DELETE", headers: { "If-Match": e1 } });
    expect(stale.status).toBe(412);
    expect((await problemOf(stale)).currentETag).toMatch(/^"r\d+"$/);
    const current = (await call(`/v1/kv/${ns}/k`)).headers.get("ETag")!;
    expect(
      (await call(`/v1/kv/${ns}/k`, { method: "DELETE", headers: { "If-Match": current } })).status,
    ).toBe(204);
    expect(
      (await call(`/v1/kv/${ns}/k`, { method: "DELETE", headers: { "If-Match": "*" } })).status,
    ).toBe(412);
    expect(
      (await call(`/v1/kv/${ns}/k`, { method: "DELETE", headers: { "If-Match": `W/${current}` } }))
        .status,
    ).toBe(412);
    expect(
      (await call(`/v1/kv/${ns}/k2`, { method: "DELETE", headers: { "If-Match": '"nope"' } }))
        .status,
    ).toBe(412);
    expect(
      (await call(`/v1/kv/${ns}/k2`, { method: "DELETE", headers: { "If-Match": "nope" } })).status,
    ).toBe(400);
  });
});

describe("bodies", () => {
  it("application/json bodies must parse; other types are stored as given", async () => {
    const ns = freshNs();
    const bad = await put(`${ns}/k`, "{nope", { "Content-Type": "application/json" });
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).detail).toContain("does not parse");
    const badPlus = await put(`${ns}/k`, "{", { "Content-Type": "application/merge-patch+json" });
    expect(badPlus.status).toBe(400);
    expect((await call(`/v1/kv/${ns}/k`)).status).toBe(404);
    const bin = new Uint8Array([0, 255, 1, 254]);
    expect(
      (await put(`${ns}/bin`, bin, { "Content-Type": "application/octet-stream" })).status,
    ).toBe(201);
    const got = await call(`/v1/kv/${ns}/bin`);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bin);
    for (let i = 0; i < 2; i++) {
      // stale: from a replica, then from the isolate cache
      const stale = await call(`/v1/kv/${ns}/bin?consistency=stale`);
      expect(new Uint8Array(await stale.arrayBuffer())).toEqual(bin);
    }
    expect((await put(`${ns}/none`, "x")).status).toBe(201);
    expect((await call(`/v1/kv/${ns}/none`)).headers.get("Content-Type")).toMatch(
      /^text\/plain|^application\/octet-stream/,
    );
  });

  it("413 over 1 MiB, by Content-Length and by the bytes actually sent; nothing is written", async () => {
    const ns = freshNs();
    const big = new Uint8Array(1024 * 1024 + 1);
    const res = await put(`${ns}/big`, big, { "Content-Type": "application/octet-stream" });
    expect(res.status).toBe(413);
    expect((await problemOf(res)).detail).toContain("1048576 bytes");
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 17; i++) controller.enqueue(new Uint8Array(64 * 1024));
        controller.close();
      },
    });
    const chunked = await call(`/v1/kv/${ns}/big`, {
      method: "PUT",
      body: stream,
      headers: { "Content-Type": "application/octet-stream" },
    });
    expect(chunked.status).toBe(413);
    expect((await call(`/v1/kv/${ns}/big`)).status).toBe(404);
    const exact = await put(`${ns}/big`, new Uint8Array(1024 * 1024), {
      "Content-Type": "application/octet-stream",
    });
    expect(exact.status).toBe(201);
  });
});

describe("?meta, ?revision and history", () => {
  it("?meta answers the JSON entry", async () => {
    const ns = freshNs();
    await put(`${ns}/k`, "abc", { "Content-Type": "text/plain" });
    const res = await call(`/v1/kv/${ns}/k?meta`);
    expect(res.headers.get("Content-Type")).toContain("application/json");
    const meta = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(meta).sort()).toEqual([
      "contentType",
      "createRevision",
      "key",
      "modRevision",
      "size",
      "updatedAt",
      "version",
    ]);
    expect(meta).toMatchObject({ key: `${ns}/k`, contentType: "text/plain", size: 3, version: 1 });
    expect(new Date(meta.updatedAt as string).getTime()).toBeGreaterThan(0);
  });

  it("?revision=N reads an old version; history lists versions newest first", async () => {
    const ns = freshNs();
    const r1 = ((await (await put(`${ns}/k`, { v: 1 })).json()) as { modRevision: number })
      .modRevision;
    await put(`${ns}/k`, { v: 2 });
    await call(`/v1/kv/${ns}/k`, { method: "DELETE" });
    await put(`${ns}/k`, { v: 3 });
    expect(await (await call(`/v1/kv/${ns}/k?revision=${r1}`)).json()).toEqual({ v: 1 });
    const h = (await (await call(`/v1/kv/${ns}/k/history`)).json()) as {
      items: Array<{ version: number; deleted: boolean }>;
    };
    expect(h.items.map((i) => [i.version, i.deleted])).toEqual([
      [1, false],
      [0, true],
      [2, false],
      [1, false],
    ]);
    expect((await call(`/v1/kv/${ns}/k?revision=abc`)).status).toBe(400);
    expect((await call(`/v1/kv/${freshNs()}/none/history`)).status).toBe(404);
  });

  it("410 once the version at ?revision is compacted (100 versions per key are kept)", async () => {
    const ns = freshNs();
    const first = ((await (await put(`${ns}/k`, { v: 0 })).json()) as { modRevision: number })
      .modRevision;
    for (let i = 1; i <= 101; i++) await put(`${ns}/k`, { v: i });
    const res = await call(`/v1/kv/${ns}/k?revision=${first}`);
    expect(res.status).toBe(410);
    expect((await problemOf(res)).detail).toContain("no longer retained");
  });
});
