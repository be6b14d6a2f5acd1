import { describe, expect, it } from "vitest";
import { Driver, expectType, text } from "./helpers.ts";

function seeded(): Driver {
  const d = new Driver();
  for (const name of ["b", "a", "a/x", "a/y", "B", "c~", "c.d", "z"]) d.put(`app/${name}`, name);
  d.put("apps/a", "other namespace");
  d.put("ap/a", "other namespace");
  d.del("app/z");
  return d;
}

describe("list", () => {
  it("lists live keys of one namespace under a prefix, in byte order", () => {
    const d = seeded();
    const r = expectType(d.store.list({ prefix: "app/" }), "list");
    expect(r.items.map((i) => i.entry.key)).toEqual([
      "app/B",
      "app/a",
      "app/a/x",
      "app/a/y",
      "app/b",
      "app/c.d",
      "app/c~",
    ]);
    expect(r.cursor).toBeNull();
    expect(r.items[0]!.value).toBeUndefined();
    expect(
      expectType(d.store.list({ prefix: "app/a" }), "list").items.map((i) => i.entry.key),
    ).toEqual(["app/a", "app/a/x", "app/a/y"]);
    expect(expectType(d.store.list({ prefix: "app/a/" }), "list").items).toHaveLength(2);
  });

  it("pages with an opaque cursor and includes values on request", () => {
    const d = seeded();
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = expectType(
        d.store.list({ prefix: "app/", limit: 3, values: true, ...(cursor ? { cursor } : {}) }),
        "list",
      );
      for (const item of r.items) {
        seen.push(item.entry.key);
        expect(text(item.value)).toBe(item.entry.key.slice(4));
      }
      if (r.cursor === null) break;
      cursor = r.cursor;
    }
    expect(seen).toEqual(["app/B", "app/a", "app/a/x", "app/a/y", "app/b", "app/c.d", "app/c~"]);
  });

  it("continues after the cursor key even if it was deleted meanwhile", () => {
    const d = seeded();
    const first = expectType(d.store.list({ prefix: "app/", limit: 2 }), "list");
    d.del("app/a");
    const next = expectType(
      d.store.list({ prefix: "app/", limit: 2, cursor: first.cursor! }),
      "list",
    );
    expect(next.items.map((i) => i.entry.key)).toEqual(["app/a/x", "app/a/y"]);
  });

  it("rejects a prefix without a namespace, a bad limit and a foreign cursor", () => {
    const d = seeded();
    expect(d.store.list({ prefix: "app" }).type).toBe("invalid");
    expect(d.store.list({ prefix: "App/" }).type).toBe("invalid");
    expect(d.store.list({ prefix: "app/", limit: 0 }).type).toBe("invalid");
    expect(d.store.list({ prefix: "app/", limit: 1001 }).type).toBe("invalid");
    const other = expectType(d.store.list({ prefix: "app/", limit: 1 }), "list").cursor!;
    expect(d.store.list({ prefix: "apps/", cursor: other }).type).toBe("invalid");
    expect(d.store.list({ prefix: "app/", cursor: "garbage!" }).type).toBe("invalid");
  });
});

describe("bundle", () => {
  it("returns every live key of the namespace with its value, and the namespace's last modRevision", () => {
    const d = seeded();
    const b = expectType(d.store.bundle("app"), "bundle");
    expect(b.items.map((i) => i.name)).toEqual(["B", "a", "a/x", "a/y", "b", "c.d", "c~"]);
    expect(text(b.items[0]!.value)).toBe("B");
    // The last write in "app" was the delete of app/z (revision 11), after writes to other namespaces.
    expect(b.namespaceRevision).toBe(11);
    expect(expectType(d.store.bundle("apps"), "bundle").namespaceRevision).toBe(9);
  });

  it("its ETag source moves on delete and never for writes elsewhere", () => {
    const d = new Driver();
    expect(expectType(d.store.bundle("app"), "bundle")).toMatchObject({
      namespaceRevision: 0,
      items: [],
    });
    d.put("app/a", "1");
    d.put("web/a", "1");
    expect(expectType(d.store.bundle("app"), "bundle").namespaceRevision).toBe(1);
    d.del("app/a");
    expect(expectType(d.store.bundle("app"), "bundle").namespaceRevision).toBe(3);
    expect(d.store.bundle("_sys").type).toBe("invalid");
  });
});
