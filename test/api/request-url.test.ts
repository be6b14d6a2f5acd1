// pathOf (src/api/keys.ts) and queryRecord (src/api/validation.ts) slice a request URL instead of
// parsing it: they must agree with the URL parser on every URL the runtime can hand a Worker.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyFromPath, pathOf } from "../../src/api/keys.ts";

describe("pathOf", () => {
  // 500 runs: ~1 s idle, over 5 s (vitest's default timeout) on a busy 2-core machine.
  it("is new URL(url).pathname for serialized request URLs", { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(
        fc.webUrl({ withQueryParameters: true }),
        fc.array(fc.string({ unit: "binary" }), { maxLength: 4 }),
        (base, segments) => {
          const url = new URL(base);
          url.hash = "";
          url.pathname = `/v1/kv/${segments.map(encodeURIComponent).join("/")}`;
          const serialized = url.href; // what request.url looks like
          expect(pathOf(serialized)).toBe(new URL(serialized).pathname);
        },
      ),
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
        for (const [k, v] of new URL(url).searchParams) {
          if (Object.hasOwn(reparsed, k)) twice = true;
          reparsed[k] = v;
        }
        if (twice) expect(() => queryRecord(url)).toThrow("given twice");
        else expect(queryRecord(url)).toEqual(reparsed);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("keyFromPath", () => {
  const outcome = (f: () => string): string => {
    try {
      return `key ${f()}`;
    } catch (error) {
      return `error ${(error as Error).message}`;
    }
  };

  it("answers a path the same every time, whatever it answered for other paths or suffixes before", () => {
    const segment = fc.oneof(
      fc.constantFrom("app", "history", "a%2Fb", "%E9", "%zz", "", "..", "x".repeat(130)),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (segments) => {
        const url = new URL(
          `http://h/v1/kv/${segments.map((s) => (s.includes("%") ? s : encodeURIComponent(s))).join("/")}`,
        ).href;
        const plain = outcome(() => keyFromPath(url, "/v1/kv/"));
        const history = outcome(() => keyFromPath(url, "/v1/kv/", "/history"));
        expect(outcome(() => keyFromPath(url, "/v1/kv/"))).toBe(plain);
        expect(outcome(() => keyFromPath(url, "/v1/kv/", "/history"))).toBe(history);
      }),
      { numRuns: 2000 },
    );
  });

  it("tells a key ending in history from the history of a key, in either order", () => {
    const url = "http://h/v1/kv/app/flags/history";
    expect(keyFromPath(url, "/v1/kv/", "/history")).toBe("app/flags");
    expect(() => keyFromPath(url, "/v1/kv/")).toThrow(/may not end in the segment "history"/);
    expect(keyFromPath(url, "/v1/kv/", "/history")).toBe("app/flags");
  });
});
