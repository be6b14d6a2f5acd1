// A bundle as the SDK and CLI receive it, as flag sources: JSON inline, text decoded, other
// media types no flags, ETags from meta (none for hand-written fallbacks).
import { describe, expect, it } from "vitest";
import { flagSourcesOf } from "../../src/flags/index.ts";

describe("flagSourcesOf", () => {
  it("keeps JSON and text values, drops other media types", () => {
    const sources = flagSourcesOf({
      entries: {
        beta: { on: true },
        banner: { contentType: "text/plain; charset=utf-8", base64: btoa("Hallo") },
        logo: { contentType: "image/png", base64: "iVBORw0K" },
      },
      meta: {
        beta: { contentType: "application/json", modRevision: 3 },
        banner: { contentType: "text/plain; charset=utf-8", modRevision: 4 },
        logo: { contentType: "image/png", modRevision: 5 },
      },
    });
    expect(sources).toEqual([
      { name: "beta", etag: '"r3"', value: { on: true } },
      { name: "banner", etag: '"r4"', value: "Hallo" },
    ]);
  });

  it("names no ETag without meta (a fallback file)", () => {
    expect(flagSourcesOf({ entries: { a: 1 } })).toEqual([{ name: "a", etag: "", value: 1 }]);
  });
});
