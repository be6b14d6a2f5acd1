// The store's eviction queue (src/store/fifo.ts): first in, first out across its compactions,
// retain() keeps order, and shifted slots do not pile up (the queue lives as long as the store).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Fifo } from "../../src/store/fifo.ts";

/** The backing array's size: what the queue holds on to, shifted slots included. */
const slots = (q: Fifo<number>): number => (q as unknown as { items: unknown[] }).items.length;

describe("Fifo", () => {
  it("answers like an array used as a queue, for any mix of pushes, shifts and retains", () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 50 }), n: fc.integer({ min: 1, max: 700 }) }),
      fc.record({ shift: fc.integer({ min: 1, max: 900 }) }),
      fc.record({ retainOdd: fc.constant(true) }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { maxLength: 20 }),
        fc.array(op, { maxLength: 30 }),
        (start, ops) => {
          const q = new Fifo(start);
          let model = [...start];
          for (const o of ops) {
            if ("push" in o) {
              for (let i = 0; i < o.n; i++) {
                q.push(o.push + i);
                model.push(o.push + i);
              }
            } else if ("shift" in o) {
              for (let i = 0; i < o.shift; i++) expect(q.shift()).toBe(model.shift());
            } else {
              q.retain((x) => x % 2 !== 0);
              model = model.filter((x) => x % 2 !== 0);
            }
            expect(q.length).toBe(model.length);
            expect(q.peek()).toBe(model[0]);
            expect(q.toArray()).toEqual(model);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("an empty queue shifts undefined and stays empty", () => {
    const q = new Fifo<number>();
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
    q.push(1);
    expect(q.shift()).toBe(1);
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
    expect(q.peek()).toBeUndefined();
    // Shifting an empty queue holds on to nothing, however often.
    const empty = new Fifo<number>();
    for (let i = 0; i < 10; i++) expect(empty.shift()).toBeUndefined();
    expect(slots(empty)).toBe(0);
    empty.push(7);
    expect(empty.toArray()).toEqual([7]);
  });

  it("does not copy the caller's array: pushing later leaves it alone", () => {
    const start = [1, 2];
    const q = new Fifo(start);
    q.push(3);
    q.shift();
    expect(start).toEqual([1, 2]);
  });

  it("shifted slots are dropped once over 1024 and half the array: a long-lived queue stays small", () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 100_000; i++) {
      q.push(i);
      q.push(i);
      q.shift();
      if (i % 2 === 0) q.shift();
    }
    expect(q.length).toBe(50_000);
    // At most the live half plus 1024 shifted slots (or twice the live items) are held.
    expect(slots(q)).toBeLessThanOrEqual(Math.max(2 * q.length, q.length + 1024));
    const small = new Fifo<number>();
    for (let i = 0; i < 5_000; i++) {
      small.push(i);
      small.shift();
    }
    expect(small.length).toBe(0);
    expect(slots(small)).toBeLessThanOrEqual(1024);
  });

  it("a queue under 1024 shifts is not compacted: shifting stays O(1)", () => {
    const q = new Fifo<number>(Array.from({ length: 2000 }, (_, i) => i));
    for (let i = 0; i < 1023; i++) q.shift();
    expect(slots(q)).toBe(2000);
    q.shift(); // the 1024th: 1024 * 2 >= 2000, so the shifted slots go
    expect(slots(q)).toBe(2000 - 1024);
    expect(q.peek()).toBe(1024);
    // Exactly half shifted compacts; less than half does not (compacting costs the live items).
    const half = new Fifo<number>(Array.from({ length: 2048 }, (_, i) => i));
    for (let i = 0; i < 1024; i++) half.shift();
    expect(slots(half)).toBe(1024);
    const big = new Fifo<number>(Array.from({ length: 3000 }, (_, i) => i));
    for (let i = 0; i < 1024; i++) big.shift();
    expect(slots(big)).toBe(3000);
    expect(big.peek()).toBe(1024);
  });
});
