// The router's coalescing of requests to one replica (src/router/coalesce.ts): a lone request
// leaves at once; requests arriving while an RPC is on the wire leave together in the next one,
// each answered with its own answer; limits split batches; a failure reaches exactly its batch.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Coalescer } from "../../src/router/coalesce.ts";

const limits = { itemsMax: 4, bytesMax: 100, waitMsMax: 1_000, openerGraceMs: 50 };

/** A fake replica: each RPC waits until released, then answers "<request>!" for each request. */
function fakeReplica() {
  const rpcs: { requests: string[]; release: () => void; fail: (e: unknown) => void }[] = [];
  const send = (requests: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      rpcs.push({ requests, release: () => resolve(requests.map((r) => `${r}!`)), fail: reject });
    });
  return { rpcs, send };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => vi.useRealTimers());

describe("Coalescer", () => {
  it("sends a lone request at once, alone", async () => {
    const c = new Coalescer<string, string>(limits);
    const replica = fakeReplica();
    const answer = c.call("a", 1, replica.send);
    expect(replica.rpcs.map((r) => r.requests)).toEqual([["a"]]);
    replica.rpcs[0]!.release();
    expect(await answer).toBe("a!");
    // The wire is free again: the next request also leaves at once.
    const next = c.call("b", 1, replica.send);
    expect(replica.rpcs.map((r) => r.requests)).toEqual([["a"], ["b"]]);
    replica.rpcs[1]!.release();
    expect(await next).toBe("b!");
  });

  it("batches the requests that arrive while an RPC is on the wire, answering each its own", async () => {
    const c = new Coalescer<string, string>(limits);
    const replica = fakeReplica();
    const first = c.call("a", 1, replica.send);
    const rest = ["b", "c", "d"].map((r) => c.call(r, 1, replica.send));
    await tick();
    expect(replica.rpcs.map((r) => r.requests)).toEqual([["a"]]);
    replica.rpcs[0]!.release();
    await tick();
    expect(replica.rpcs.map((r) => r.requests)).toEqual([["a"], ["b", "c", "d"]]);
    replica.rpcs[1]!.release();
    expect(await Promise.all([first, ...rest])).toEqual(["a!", "b!", "c!", "d!"]);
    expect(c.counts).toEqual({ rpcs: 2, requests: 4 });
  });

  it("splits batches at itemsMax and bytesMax; a request above bytesMax still leaves, alone", async () => {
    const c = new Coalescer<string, string>(limits);
    const replica = fakeReplica();
    const all = [c.call("a", 1, replica.send)];
    for (const r of ["b", "c", "d", "e", "f"]) all.push(c.call(r, 1, replica.send)); // 4 + 1
    all.push(c.call("big", 150, replica.send)); // over bytesMax: a batch of its own
    all.push(c.call("g", 60, replica.send));
    all.push(c.call("h", 60, replica.send)); // 120 bytes with g: the next batch
    for (let i = 0; i < 6; i++) {
      await tick();
      replica.rpcs[i]!.release();
    }
    expect(await Promise.all(all)).toEqual(["a!", "b!", "c!", "d!", "e!", "f!", "big!", "g!", "h!"]);
    expect(replica.rpcs.map((r) => r.requests)).toEqual([["a"], ["b", "c", "d", "e"], ["f"], ["big"], ["g"], ["h"]]);
  });

  it("a failed RPC fails every request of its batch and no other; the next batch still leaves", async () => {
    const c = new Coalescer<string, string>(limits);
    const replica = fakeReplica();
    const first = c.call("a", 1, replica.send);
    const batched = [c.call("b", 1, replica.send), c.call("c", 1, replica.send)];
    replica.rpcs[0]!.release();
    await tick();
    const later = c.call("d", 1, replica.send); // joins the batch after b, c
    replica.rpcs[1]!.fail(new Error("replica reset"));
    await expect(Promise.all(batched)).rejects.toThrow("replica reset");
    for (const b of batched) await expect(b).rejects.toThrow("replica reset");
    await tick();
    replica.rpcs[2]!.release();
    expect(await first).toBe("a!");
    expect(await later).toBe("d!");
    expect(replica.rpcs.map((r) => r.requests)).toEqual([["a"], ["b", "c"], ["d"]]);
  });

  it("a wire whose RPC never comes back is taken over after waitMsMax; the batch waiting for it then leaves", async () => {
    vi.useFakeTimers();
    const c = new Coalescer<string, string>(limits);
    const replica = fakeReplica();
    void c.call("stuck", 1, replica.send); // its RPC never answers (say its request was cancelled)
    const waiting = [c.call("b", 1, replica.send), c.call("c", 1, replica.send)];
    await vi.advanceTimersByTimeAsync(999);
    expect(replica.rpcs.map((r) => r.requests)).toEqual([["stuck"]]);
    await vi.advanceTimersByTimeAsync(1);
    expect(replica.rpcs.map((r) => r.requests)).toEqual([["stuck"], ["b", "c"]]);
    replica.rpcs[1]!.release();
    expect(await Promise.all(waiting)).toEqual(["b!", "c!"]);
  });

  it("a request that joined a batch whose RPC never comes back fails after twice waitMsMax", async () => {
    vi.useFakeTimers();
    const c = new Coalescer<string, string>(limits);
    const replica = fakeReplica();
    const first = c.call("a", 1, replica.send);
    void c.call("b", 1, replica.send); // opens the next batch, whose RPC will never answer
    const joined = c.call("c", 1, replica.send);
    const failed = expect(joined).rejects.toThrow(/no answer within 2000 ms/);
    replica.rpcs[0]!.release();
    expect(await first).toBe("a!");
    await vi.advanceTimersByTimeAsync(1_999);
    expect(replica.rpcs.map((r) => r.requests)).toEqual([["a"], ["b", "c"]]);
    await vi.advanceTimersByTimeAsync(1);
    await failed;
  });

  it("asserts one answer per request", async () => {
    const c = new Coalescer<string, string>(limits);
    await expect(c.call("a", 1, async () => [])).rejects.toThrow(/a batch of 1 requests got 0 answers/);
  });
});
