// The chaos run's history check (scripts/chaos/history.ts) catches what it exists to catch: a
// stale read and a lost acknowledged write are not linearizable; an unknown outcome may or may
// not have happened; a clean history passes.
import { describe, expect, it } from "vitest";
import { checkHistory, type Recorded } from "../../scripts/chaos/history.ts";
import { unavailability } from "../../scripts/chaos/report.ts";

const put = (
  client: number,
  value: string,
  invokeMs: number,
  completeMs: number | null,
): Recorded => ({
  client,
  input: { kind: "put", key: "chaos/k", value },
  output: { kind: "put" },
  invokeMs,
  completeMs,
});
const get = (
  client: number,
  value: string | null,
  invokeMs: number,
  completeMs: number,
): Recorded => ({
  client,
  input: { kind: "get", key: "chaos/k" },
  output: { kind: "get", value },
  invokeMs,
  completeMs,
});

describe("the chaos history check", () => {
  it("passes a history some order explains", () => {
    expect(
      checkHistory([
        put(1, "a", 0, 10),
        get(2, "a", 11, 12),
        put(1, "b", 13, 20),
        get(2, "b", 21, 22),
      ]).ok,
    ).toBe(true);
  });

  it("catches a stale read: the old value after a newer write was acknowledged", () => {
    const r = checkHistory([put(1, "a", 0, 10), put(1, "b", 11, 20), get(2, "a", 21, 22)]);
    expect(r).toMatchObject({ ok: false, partition: "chaos/k" });
  });

  it("catches a lost write: an acknowledged write a later read does not see", () => {
    const r = checkHistory([put(1, "a", 0, 10), get(3, null, 30, 31)]);
    expect(r.ok).toBe(false);
  });

  it("lets a write of unknown outcome have happened, or not", () => {
    expect(checkHistory([put(1, "a", 0, 10), put(2, "b", 11, null), get(3, "b", 30, 31)]).ok).toBe(
      true,
    );
    expect(checkHistory([put(1, "a", 0, 10), put(2, "b", 11, null), get(3, "a", 30, 31)]).ok).toBe(
      true,
    );
  });

  it("a CAS that lost (412) must have seen another value", () => {
    const cas = (ok: boolean): Recorded => ({
      client: 2,
      input: { kind: "cas", key: "chaos/k", expected: "a", value: "c" },
      output: { kind: "cas", ok },
      invokeMs: 11,
      completeMs: 12,
    });
    expect(checkHistory([put(1, "a", 0, 10), cas(true)]).ok).toBe(true);
    expect(checkHistory([put(1, "a", 0, 10), cas(false)]).ok).toBe(false);
  });
});

describe("the chaos report's unavailability windows", () => {
  it("count from a fault to the first acknowledged write begun after it", () => {
    const ops: Recorded[] = [
      put(1, "a", 90, 130), // in flight when the fault began: says nothing about it
      put(1, "b", 140, null), // unknown: not acknowledged
      put(2, "c", 150, 900),
      put(3, "d", 200, 700),
    ];
    expect(unavailability(ops, [{ kind: "cut", atMs: 100, holdMs: 500 }])).toEqual([600]);
    expect(unavailability(ops, [{ kind: "cut", atMs: 1_000, holdMs: 500 }])).toEqual([]);
  });
});
