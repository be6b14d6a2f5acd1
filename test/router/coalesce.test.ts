// The isolate-side coalescer (src/router/coalesce.ts) against a fake replica whose batches the
// test answers by hand: who sends, what a batch holds, and that no caller is lost or answered twice.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Coalescer, type CoalesceLimits } from "../../src/router/coalesce.ts";

interface Sent {
  by: string;
  items: number[];
  answer(fn?: (x: number) => number): void;
  fail(error: Error): void;
}

/** A fake replica: records each batch and who sent it; the test settles them. */
function fakeReplica() {
  const sent: Sent[] = [];
  /** Every batch ever sent, by its items. */
  const log: number[][] = [];
  const sendAs =
    (by: string) =>
    (items: number[]): Promise<number[]> =>
      new Promise((resolve, reject) => {
        log.push(items);
        sent.push({ by, items, answer: (fn = (x) => x * 10) => resolve(items.map(fn)), fail: reject });
      });
  return { sent, log, sendAs };
}

const limits: CoalesceLimits = { inFlightMax: 1, batchItemsMax: 4, batchBytesMax: 100 };
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("Coalescer", () => {
  it("sends a lone call at once, by its own caller", async () => {
    const kept: Promise<unknown>[] = [];
    const c = new Coalescer<number, number>(limits, (p) => kept.push(p));
    const { sent, sendAs } = fakeReplica();
    const answer = c.call("r1", 1, 1, sendAs("a"));
    expect(sent.map((s) => [s.by, s.items])).toEqual([["a", [1]]]);
    expect(kept).toHaveLength(1); // the sender's request is kept alive until the batch settles
    sent[0]!.answer();
    expect(await answer).toBe(10);
  });

  it("coalesces the calls made while a batch is on the wire; a waiting caller sends them", async () => {
    const c = new Coalescer<number, number>(limits, () => {});
    const { sent, sendAs } = fakeReplica();
    const first = c.call("r1", 1, 1, sendAs("a"));
    const rest = [2, 3, 4].map((n) => c.call("r1", n, 1, sendAs(`caller${n}`)));
    expect(sent).toHaveLength(1);
    sent[0]!.answer();
    expect(await first).toBe(10);
    await settle();
    expect(sent.map((s) => s.items)).toEqual([[1], [2, 3, 4]]);
    expect(sent[1]!.by).toBe("caller2"); // a caller whose call is in that batch, not caller "a"
    sent[1]!.answer();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it("keeps lanes apart by key", async () => {
    const c = new Coalescer<number, number>(limits, () => {});
    const { sent, sendAs } = fakeReplica();
    const a = c.call("r1", 1, 1, sendAs("a"));
    const b = c.call("r2", 2, 1, sendAs("b"));
    expect(sent.map((s) => s.items)).toEqual([[1], [2]]);
    sent.forEach((s) => s.answer());
    expect([await a, await b]).toEqual([10, 20]);
  });

  it("cuts batches at batchItemsMax and batchBytesMax; an oversized call goes alone", async () => {
    const c = new Coalescer<number, number>(limits, () => {});
    const { sent, log, sendAs } = fakeReplica();
    const calls = [c.call("r", 0, 1, sendAs("x"))];
    for (let i = 1; i <= 6; i++) calls.push(c.call("r", i, 1, sendAs("x")));
    calls.push(c.call("r", 7, 150, sendAs("x")), c.call("r", 8, 60, sendAs("x")), c.call("r", 9, 60, sendAs("x")));
    for (let round = 0; round < 10 && sent.length > 0; round++) {
      sent.shift()!.answer();
      await settle();
    }
    expect(await Promise.all(calls)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    // [0] alone (nothing in flight); then 4 items; then 2 items and a 150-byte call would pass
    // 100 bytes; 150 bytes alone; 60 + 60 > 100.
    expect(log).toEqual([[0], [1, 2, 3, 4], [5, 6], [7], [8], [9]]);
  });

  it("a failed batch fails every call in it, and the lane goes on", async () => {
    const c = new Coalescer<number, number>(limits, () => {});
    const { sent, sendAs } = fakeReplica();
    const first = c.call("r", 1, 1, sendAs("a"));
    const second = c.call("r", 2, 1, sendAs("b"));
    sent[0]!.fail(new Error("replica reset"));
    await expect(first).rejects.toThrow("replica reset");
    await settle();
    sent[1]!.answer();
    expect(await second).toBe(20);
  });

  it("a wrong number of answers fails the batch instead of misrouting answers", async () => {
    const c = new Coalescer<number, number>(limits, () => {});
    const first = c.call("r", 1, 1, async () => [1, 2]);
    await expect(first).rejects.toThrow("a batch of 1 calls got 2 answers");
  });

  it("property: every call is answered exactly once with its own answer, whatever the interleaving", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ inFlightMax: fc.integer({ min: 1, max: 3 }), batchItemsMax: fc.integer({ min: 1, max: 5 }) }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean(), fc.nat(20)), { minLength: 1, maxLength: 40 }),
        async (l, script) => {
          const c = new Coalescer<number, number>({ ...l, batchBytesMax: 50 }, () => {});
          const { sent, log, sendAs } = fakeReplica();
          const calls: Promise<number | string>[] = [];
          // Interleave new calls with settling some batches in flight, in the order the script says.
          for (const [i, [lane, settleOne, bytes]] of script.entries()) {
            calls.push(c.call(`r${lane}`, i, bytes, sendAs("x")).catch(() => `failed ${i}`));
            if (settleOne && sent.length > 0) {
              const s = sent.shift()!;
              if (bytes % 7 === 0) s.fail(new Error("down"));
              else s.answer();
            }
            await Promise.resolve();
          }
          for (;;) {
            await settle();
            if (sent.length === 0) break;
            sent.shift()!.answer();
          }
          const answers = await Promise.all(calls);
          answers.forEach((a, i) => expect([i * 10, `failed ${i}`]).toContain(a));
          // Each call was sent exactly once, in at most batchItemsMax per batch.
          expect(log.flat().sort((a, b) => a - b)).toEqual(script.map((_, i) => i));
          for (const items of log) expect(items.length).toBeLessThanOrEqual(l.batchItemsMax);
        },
      ),
      { numRuns: 200 },
    );
  });
});
