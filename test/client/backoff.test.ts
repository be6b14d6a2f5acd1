import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelayMs, sleep } from "../../src/client/backoff.ts";
import { isNewerToken, ConsistencyTokens } from "../../src/client/consistency.ts";
import { EtagCache } from "../../src/client/cache.ts";

describe("backoff", () => {
  it("stays within [0, min(max, base·2^attempt)] (full jitter)", () => {
    fc.assert(
      fc.property(fc.nat(60), fc.double({ min: 0, max: 0.9999999, noNaN: true }), (attempt, r) => {
        const options = { baseDelayMs: 50, delayMsMax: 2000, random: () => r };
        const ms = backoffDelayMs(attempt, options);
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThanOrEqual(Math.min(2000, 50 * 2 ** attempt));
      }),
    );
  });

  it("grows with the attempt until the cap", () => {
    const top = (attempt: number) =>
      backoffDelayMs(attempt, { baseDelayMs: 10, delayMsMax: 100, random: () => 0.9999 });
    expect([0, 1, 2, 3, 4, 10].map(top)).toEqual([9, 19, 39, 79, 99, 99]);
  });

  it("sleep rejects with the abort reason", async () => {
    const controller = new AbortController();
    const slept = sleep(10_000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(slept).rejects.toThrow("stop");
  });
});

describe("consistency tokens", () => {
  it("keeps the larger revision of the same shard, whatever the arrival order", () => {
    expect(isNewerToken("s3.1042", "s3.1043")).toBe(true);
    expect(isNewerToken("s3.1043", "s3.1042")).toBe(false);
    expect(isNewerToken("s3.99", "s3.100")).toBe(true);
    expect(isNewerToken(undefined, "s1.1")).toBe(true);
    // A different shard (e.g. after a reshard) or an unknown shape: the latest wins.
    expect(isNewerToken("s3.1042", "s4.7")).toBe(true);
  });

  it("tracks tokens per namespace", () => {
    const tokens = new ConsistencyTokens();
    tokens.observe("app", "s1.5");
    tokens.observe("app", "s1.4");
    tokens.observe("other", "s2.1");
    tokens.observe("app", null);
    expect(tokens.get("app")).toBe("s1.5");
    expect(tokens.get("other")).toBe("s2.1");
    expect(tokens.get("none")).toBeUndefined();
  });
});

describe("EtagCache", () => {
  it("evicts the least recently used entry beyond entriesMax", () => {
    const cache = new EtagCache<number>(2);
    cache.set("a", "1", 1);
    cache.set("b", "2", 2);
    cache.get("a");
    cache.set("c", "3", 3);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")?.value).toBe(1);
    expect(cache.size).toBe(2);
  });
});
