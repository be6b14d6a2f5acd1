// pathOf (src/api/keys.ts) and queryRecord (src/api/validation.ts) slice a request URL instead of
// parsing it: they must agree with the URL parser on every URL the runtime can hand a Worker.
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

describe("queryRecord", () => {
  it("reads plain and encoded query strings exactly as URLSearchParams does", async () => {
    const { queryRecord } = await import("../../src/api/validation.ts");
    const char = fc.constantFrom("a", "b", "=", "&", "%", "+", " ", "é", "/", "2", "0");
    fc.assert(
      fc.property(fc.array(char, { maxLength: 24 }), (chars) => {
        const search = chars.join("");
        // What a request URL carries: the runtime percent-encodes what must be.
        const url = new URL(`http://h/p?${search}`).href;
        const reparsed: Record<string, string> = {};
        let twice = false;
        for (const [k, v] of new URL(url).searchParams) { if (Object.hasOwn(reparsed, k)) twice = true; reparsed[k] = v; }
        if (twice) expect(() => queryRecord(url)).toThrow("given twice");
        else expect(queryRecord(url)).toEqual(reparsed);
      }),
      { numRuns: 1000 },
    );
  });
});
