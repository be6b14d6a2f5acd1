// pathOf (src/api/keys.ts) slices the path out of a request URL instead of parsing it: it must
// agree with the URL parser on every URL the runtime can hand a Worker (already serialized).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pathOf } from "../../src/api/keys.ts";

describe("pathOf", () => {
  it("is new URL(url).pathname for serialized request URLs", () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true }), fc.array(fc.string({ unit: "binary" }), { maxLength: 4 }), (base, segments) => {
        const url = new URL(base);
        url.hash = "";
        url.pathname = `/v1/kv/${segments.map(encodeURIComponent).join("/")}`;
        const serialized = url.href; // what request.url looks like
        expect(pathOf(serialized)).toBe(new URL(serialized).pathname);
      }),
      { numRuns: 500 },
    );
  });

  it("handles the edges: no path, a query with slashes, an encoded question mark", () => {
    expect(pathOf("http://h")).toBe("/");
    expect(pathOf("http://h/v1/kv/a/b?x=/c?d")).toBe("/v1/kv/a/b");
    expect(pathOf("https://h:8787/v1/kv/a/b%3Fc")).toBe("/v1/kv/a/b%3Fc");
  });
});
