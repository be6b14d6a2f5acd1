// The forgets of parallel commits that ride on later prepares (src/router/txn-forgets.ts): what a
// prepare takes, what is sent alone after flushMs, and the bounds of the queue.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  flushForget,
  queueForget,
  takeForgets,
  txnForgetLimits,
} from "../../src/router/txn-forgets.ts";
import type { Router } from "../../src/router/types.ts";
import type { Command } from "../../src/store/types.ts";

/** A router that records the forgets sent alone. */
function sentAlone() {
  const sent: { namespace: string; txnId: string }[] = [];
  const router = {
    write: async (namespace: string, c: Command) => {
      if (c.type === "txnForget") sent.push({ namespace, txnId: c.txnId });
      return { outcome: { type: "txnForgotten", revision: 0, txnId: "" }, token: "" };
    },
  } as unknown as Router;
  return { sent, router };
}

afterEach(() => {
  for (const n of ["app", "web", "big"]) while (takeForgets(n).length > 0);
  vi.useRealTimers();
});

describe("forgets queued for the next prepare", () => {
  it("the next prepare to a namespace takes what is owed to it, oldest first, and only once", () => {
    queueForget("t1", ["app", "web"]);
    queueForget("t2", ["app"]);
    expect(takeForgets("app")).toEqual(["t1", "t2"]);
    expect(takeForgets("app")).toEqual([]);
    expect(takeForgets("web")).toEqual(["t1"]);
  });

  it("a prepare carries at most perPrepareMax; the rest wait for the next", () => {
    const ids = Array.from({ length: txnForgetLimits.perPrepareMax + 3 }, (_, i) => `t${i}`);
    for (const id of ids) queueForget(id, ["app"]);
    expect(takeForgets("app")).toEqual(ids.slice(0, txnForgetLimits.perPrepareMax));
    expect(takeForgets("app")).toEqual(ids.slice(txnForgetLimits.perPrepareMax));
  });

  it("past queuedMax per namespace the oldest is dropped (kept by the store until recovery)", () => {
    for (let i = 0; i <= txnForgetLimits.queuedMax; i++) queueForget(`t${i}`, ["big"]);
    const taken: string[] = [];
    for (let batch = takeForgets("big"); batch.length > 0; batch = takeForgets("big"))
      taken.push(...batch);
    expect(taken).toHaveLength(txnForgetLimits.queuedMax);
    expect(taken[0]).toBe("t1");
  });
});

describe("a forget no prepare took", () => {
  it("is sent alone after flushMs, to each namespace still owed it", async () => {
    vi.useFakeTimers();
    const { sent, router } = sentAlone();
    queueForget("t1", ["app", "web"]);
    const flushed = flushForget(router, "t1", ["app", "web"], () => 0);
    await vi.advanceTimersByTimeAsync(txnForgetLimits.flushMs - 1);
    expect(sent).toEqual([]);
    expect(takeForgets("web")).toEqual(["t1"]); // a prepare to web carried it meanwhile
    await vi.advanceTimersByTimeAsync(1);
    await flushed;
    expect(sent).toEqual([{ namespace: "app", txnId: "t1" }]);
    expect(takeForgets("app")).toEqual([]);
  });

  it("sent alone, leaves the other txns' forgets to that namespace queued", async () => {
    vi.useFakeTimers();
    const { sent, router } = sentAlone();
    queueForget("t1", ["app"]);
    queueForget("t2", ["app"]);
    const flushed = flushForget(router, "t1", ["app"], () => 0);
    await vi.advanceTimersByTimeAsync(txnForgetLimits.flushMs);
    await flushed;
    expect(sent).toEqual([{ namespace: "app", txnId: "t1" }]);
    expect(takeForgets("app")).toEqual(["t2"]);
  });

  it("is not sent once a prepare carried it, and leaves the other txns' forgets queued", async () => {
    vi.useFakeTimers();
    const { sent, router } = sentAlone();
    queueForget("t1", ["app"]);
    const flushed = flushForget(router, "t1", ["app"], () => 0);
    expect(takeForgets("app")).toEqual(["t1"]);
    queueForget("t2", ["app"]);
    await vi.advanceTimersByTimeAsync(txnForgetLimits.flushMs);
    await flushed;
    expect(sent).toEqual([]);
    expect(takeForgets("app")).toEqual(["t2"]);
  });
});
