// Listing (GET /v1/kv?prefix=) and namespace bundles (GET /v1/ns/{namespace}).
import { describe, expect, it } from "vitest";
import { call, freshNs, problemOf, put } from "./api/helpers.ts";

type Page = {
  prefix: string;
  revision: number;
  items: Array<{ key: string; value?: unknown }>;
  cursor: string | null;
};

describe("GET /v1/kv?prefix=", () => {
  it("lists in key order, pages with an opaque cursor, adds values on request", async () => {
    const ns = freshNs();
    for (const name of ["b", "a", "c/1", "c/2", "d"]) await put(`${ns}/${name}`, { name });
    await put(`${ns}/t`, "text", { "Content-Type": "text/plain" });
    const all = (await (await call(`/v1/kv?prefix=${ns}/`)).json()) as Page;
    expect(all.items.map((i) => i.key)).toEqual(
      ["a", "b", "c/1", "c/2", "d", "t"].map((n) => `${ns}/${n}`),
    );
    expect(all.items[0]).not.toHaveProperty("value");
    expect(all.cursor).toBeNull();

    const p1 = (await (await call(`/v1/kv?prefix=${ns}/&limit=2`)).json()) as Page;
    expect(p1.items.map((i) => i.key)).toEqual([`${ns}/a`, `${ns}/b`]);
    const p2 = (await (
      await call(`/v1/kv?prefix=${ns}/&limit=2&cursor=${encodeURIComponent(p1.cursor!)}`)
    ).json()) as Page;
    expect(p2.items.map((i) => i.key)).toEqual([`${ns}/c/1`, `${ns}/c/2`]);

    const sub = (await (await call(`/v1/kv?prefix=${ns}/c/&values=true`)).json()) as Page;
    expect(sub.items.map((i) => i.value)).toEqual([{ name: "c/1" }, { name: "c/2" }]);
    const text = (await (await call(`/v1/kv?prefix=${ns}/t&values=true`)).json()) as Page;
    expect(text.items[0]!.value).toEqual({ contentType: "text/plain", base64: btoa("text") });
  });

  it("rejects a missing prefix, a prefix without namespace, limits out of range, bad cursors and unknown values", async () => {
    const ns = freshNs();
    expect((await call(`/v1/kv`)).status).toBe(400);
    expect((await problemOf(await call(`/v1/kv?prefix=${ns}`))).detail).toContain("namespace");
    expect((await call(`/v1/kv?prefix=${ns}/&limit=0`)).status).toBe(400);
    expect((await problemOf(await call(`/v1/kv?prefix=${ns}/&limit=1001`))).detail).toContain(
      "1000",
    );
    expect((await call(`/v1/kv?prefix=${ns}/&limit=ten`)).status).toBe(400);
    expect((await call(`/v1/kv?prefix=${ns}/&cursor=garbage`)).status).toBe(400);
    expect((await problemOf(await call(`/v1/kv?prefix=${ns}/&values=yes`))).detail).toContain(
      "values",
    );
    expect((await problemOf(await call(`/v1/kv?prefix=${ns}/&limt=5`))).detail).toContain('"limt"');
  });
});

describe("GET /v1/ns/{namespace}", () => {
  it("returns every entry, JSON inline and others base64, with an ETag that changes on any write", async () => {
    const ns = freshNs();
    await put(`${ns}/flags`, { dark: true });
    await put(`${ns}/motd`, "hi", { "Content-Type": "text/plain" });
    const res = await call(`/v1/ns/${ns}`);
    expect(res.status).toBe(200);
    const etag = res.headers.get("ETag")!;
    const bundle = (await res.json()) as {
      namespace: string;
      revision: number;
      entries: Record<string, unknown>;
      meta: Record<string, { contentType: string }>;
    };
    expect(bundle.namespace).toBe(ns);
    expect(etag).toBe(`"r${bundle.revision}"`);
    expect(bundle.entries).toEqual({
      flags: { dark: true },
      motd: { contentType: "text/plain", base64: btoa("hi") },
    });
    expect(bundle.meta.motd!.contentType).toBe("text/plain");
    expect((await call(`/v1/ns/${ns}`, { headers: { "If-None-Match": etag } })).status).toBe(304);
    await call(`/v1/kv/${ns}/motd`, { method: "DELETE" });
    const after = await call(`/v1/ns/${ns}`, { headers: { "If-None-Match": etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get("ETag")).not.toBe(etag);
  });

  it("an empty namespace is an empty bundle; a bad name is 400", async () => {
    const ns = freshNs();
    const empty = await (await call(`/v1/ns/${ns}`)).json();
    expect(empty).toEqual({ namespace: ns, revision: 0, entries: {}, meta: {} });
    expect((await call(`/v1/ns/Bad_NS`)).status).toBe(400);
  });
});
