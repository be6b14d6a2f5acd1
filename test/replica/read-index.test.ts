// ReadIndex batching (src/replica/read-index.ts), in Node: a read index the core refuses (no
// leader yet, routine during an election) ends its batch with null and logs one line, no stack.
import { afterEach, describe, expect, it, vi } from "vitest";
import { ReadIndexBatcher } from "../../src/replica/read-index.ts";

afterEach(() => vi.restoreAllMocks());

describe("read index batches", () => {
  it("a refused read index answers null and logs one line without a stack trace", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const batcher = new ReadIndexBatcher({
      issue: () => {
        throw new Error("read index refused (noLeader): no leader is known");
      },
      applied: (index) => index,
      timeoutMs: 1_000,
    });
    expect(await batcher.request()).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    const args = warn.mock.calls[0]!;
    expect(args).toHaveLength(1);
    expect(args[0]).toMatch(/could not be issued: read index refused \(noLeader\)/);
    expect(String(args[0])).not.toContain("\n");
  });

  it("reads arriving while one round is in flight share the next round", async () => {
    const issued: string[] = [];
    const batcher = new ReadIndexBatcher({
      issue: (context) => void issued.push(context),
      applied: (index) => index,
      timeoutMs: 1_000,
    });
    const first = batcher.request();
    const second = batcher.request();
    const third = batcher.request();
    expect(issued).toHaveLength(1);
    batcher.onReadState(issued[0]!, 7);
    expect(await first).toBe(7);
    expect(issued).toHaveLength(2);
    batcher.onReadState(issued[1]!, 9);
    expect([await second, await third]).toEqual([9, 9]);
  });
});
