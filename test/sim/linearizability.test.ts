import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { checkLinearizable, type Operation } from "./linearizability.ts";
import { kvModel, type KvInput, type KvOutput } from "./kv-model.ts";

type Op = Operation<KvInput, KvOutput>;
const inf = Infinity;

const get = (
  clientId: number,
  key: string,
  value: string | null,
  call: number,
  ret: number,
): Op => ({
  clientId,
  input: { kind: "get", key },
  output: { kind: "get", value },
  call,
  return: ret,
});
const put = (clientId: number, key: string, value: string, call: number, ret: number): Op => ({
  clientId,
  input: { kind: "put", key, value },
  output: ret === inf ? { kind: "unknown" } : { kind: "put" },
  call,
  return: ret,
});
const cas = (
  clientId: number,
  key: string,
  expected: string | null,
  value: string,
  ok: boolean | "unknown",
  call: number,
  ret: number,
): Op => ({
  clientId,
  input: { kind: "cas", key, expected, value },
  output: ok === "unknown" ? { kind: "unknown" } : { kind: "cas", ok },
  call,
  return: ret,
});

const check = (ops: Op[]) => checkLinearizable(kvModel, ops);

describe("linearizability checker rejects", () => {
  it("a stale read after a completed write", () => {
    expect(check([put(1, "k", "a", 0, 1), put(1, "k", "b", 2, 3), get(2, "k", "a", 4, 5)]).ok).toBe(
      false,
    );
  });

  it("a lost CAS: two CAS from the same expected value both succeed", () => {
    const ops = [
      put(1, "k", "a", 0, 1),
      cas(1, "k", "a", "b", true, 2, 6),
      cas(2, "k", "a", "c", true, 3, 7),
    ];
    expect(check(ops).ok).toBe(false);
  });

  it("a read of a value never written", () => {
    expect(check([put(1, "k", "a", 0, 1), get(2, "k", "zzz", 2, 3)]).ok).toBe(false);
  });

  it("a read that goes back in time", () => {
    // "b" is still being written when it is read; once seen, the older "a" cannot come back.
    const ops = [
      put(1, "k", "a", 0, 1),
      put(2, "k", "b", 2, 20),
      get(3, "k", "b", 3, 4),
      get(3, "k", "a", 5, 6),
    ];
    expect(check(ops).ok).toBe(false);
  });

  it("a read of the initial value after a completed write", () => {
    expect(check([put(1, "k", "a", 0, 1), get(2, "k", null, 2, 3)]).ok).toBe(false);
  });

  it("a failed CAS whose expected value was certainly current", () => {
    expect(check([put(1, "k", "a", 0, 1), cas(2, "k", "a", "b", false, 2, 3)]).ok).toBe(false);
  });

  it("a timed-out write observed before it was called", () => {
    expect(check([get(1, "k", "x", 0, 1), put(2, "k", "x", 2, inf)]).ok).toBe(false);
  });

  it("only the bad key when others are fine, and names it", () => {
    const result = check([
      put(1, "a", "1", 0, 1),
      get(2, "a", "1", 2, 3),
      put(1, "b", "1", 0, 1),
      get(2, "b", "2", 2, 3),
    ]);
    expect(result).toMatchObject({ ok: false, partition: "b" });
  });
});

describe("linearizability checker accepts", () => {
  it("the empty history", () => {
    expect(check([]).ok).toBe(true);
  });

  it("concurrent overlapping writes read in either order", () => {
    const base = [put(1, "k", "a", 0, 10), put(2, "k", "b", 1, 9)];
    expect(check([...base, get(3, "k", "a", 11, 12)]).ok).toBe(true);
    expect(check([...base, get(3, "k", "b", 11, 12)]).ok).toBe(true);
  });

  it("a read concurrent with a write that sees the old or the new value", () => {
    expect(check([put(1, "k", "a", 0, 1), put(1, "k", "b", 2, 6), get(2, "k", "a", 3, 4)]).ok).toBe(
      true,
    );
    expect(check([put(1, "k", "a", 0, 1), put(1, "k", "b", 2, 6), get(2, "k", "b", 3, 4)]).ok).toBe(
      true,
    );
  });

  it("two concurrent CAS from the same value where exactly one wins", () => {
    const ops = [
      put(1, "k", "a", 0, 1),
      cas(1, "k", "a", "b", true, 2, 6),
      cas(2, "k", "a", "c", false, 3, 7),
      get(3, "k", "b", 8, 9),
    ];
    expect(check(ops).ok).toBe(true);
  });

  it("a timed-out write that did apply", () => {
    expect(check([put(1, "k", "a", 0, inf), get(2, "k", "a", 5, 6)]).ok).toBe(true);
  });

  it("a timed-out write that did not apply", () => {
    expect(
      check([put(1, "k", "a", 0, inf), get(2, "k", null, 5, 6), get(2, "k", null, 7, 8)]).ok,
    ).toBe(true);
  });

  it("a timed-out write that applied late, after later reads saw the old value", () => {
    const ops = [
      put(1, "k", "a", 0, 1),
      put(2, "k", "b", 2, inf),
      get(3, "k", "a", 10, 11),
      put(1, "k", "c", 12, 13),
      get(3, "k", "c", 14, 15),
      get(3, "k", "b", 16, 17),
    ];
    expect(check(ops).ok).toBe(true);
  });

  it("a timed-out CAS that succeeded or failed", () => {
    const base = [put(1, "k", "a", 0, 1), cas(2, "k", "a", "b", "unknown", 2, inf)];
    expect(check([...base, get(3, "k", "b", 5, 6)]).ok).toBe(true);
    expect(check([...base, get(3, "k", "a", 5, 6)]).ok).toBe(true);
    expect(check([...base, get(3, "k", "c", 5, 6)]).ok).toBe(false);
  });

  it("a create-if-absent CAS", () => {
    expect(
      check([
        cas(1, "k", null, "a", true, 0, 1),
        cas(2, "k", null, "b", false, 2, 3),
        get(1, "k", "a", 4, 5),
      ]).ok,
    ).toBe(true);
  });

  it("many concurrent clients within the search budget", () => {
    const ops: Op[] = [];
    for (let c = 0; c < 8; c++) ops.push(put(c, "k", `v${c}`, c, 100 + c));
    ops.push(get(9, "k", "v3", 200, 201));
    expect(check(ops).ok).toBe(true);
  });
});

/** A random sequential history over a few keys, executed against a plain Map. */
const sequentialHistory = fc
  .array(
    fc.record({
      kind: fc.constantFrom("get", "put", "cas"),
      key: fc.constantFrom("x", "y"),
      value: fc.constantFrom("1", "2", "3"),
      expected: fc.constantFrom<string | null>(null, "1", "2", "3"),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((specs) => {
    const state = new Map<string, string>();
    return specs.map((s, i): Op => {
      const current = state.get(s.key) ?? null;
      const call = 2 * i;
      if (s.kind === "get") return get(1, s.key, current, call, call + 1);
      if (s.kind === "put") {
        state.set(s.key, s.value);
        return put(1, s.key, s.value, call, call + 1);
      }
      const ok = current === s.expected;
      if (ok) state.set(s.key, s.value);
      return cas(1, s.key, s.expected, s.value, ok, call, call + 1);
    });
  });

describe("linearizability checker properties", () => {
  it("accepts every sequential history", () => {
    fc.assert(
      fc.property(sequentialHistory, (ops) => check(ops).ok),
      { numRuns: 200 },
    );
  });

  it("rejects a sequential history with one read changed to a value never written", () => {
    const withGet = sequentialHistory.filter((ops) => ops.some((op) => op.input.kind === "get"));
    fc.assert(
      fc.property(withGet, fc.nat(), (ops, pick) => {
        const gets = ops.filter((op) => op.input.kind === "get");
        const victim = gets[pick % gets.length] as Op;
        const mutated = ops.map((op) =>
          op === victim ? { ...op, output: { kind: "get" as const, value: "never-written" } } : op,
        );
        return !check(mutated).ok;
      }),
      { numRuns: 200 },
    );
  });
});

describe("linearizability checker with many timed-out writes", () => {
  it("stays fast when only a few of them are observed (pruning is sound)", () => {
    const ops: Op[] = [];
    for (let c = 0; c < 20; c++) ops.push(put(c, "k", `v${c}`, c, inf));
    ops.push(get(99, "k", "v3", 100, 101));
    expect(check(ops).ok).toBe(true);
    expect(check([...ops, get(99, "k", "never", 102, 103)]).ok).toBe(false);
  });

  it("stays fast with a failed CAS among them (one spare kept per failed CAS)", () => {
    // The shape of simulator seeds 249291 and 293158: 13 timed-out puts and a failed CAS on one
    // key, which the search could not finish in 5 M steps when nothing was pruned.
    const ops: Op[] = [];
    for (let c = 0; c < 13; c++) ops.push(put(c, "k", `t${c}`, c, inf));
    ops.push(
      get(20, "k", null, 14, 15),
      put(21, "k", "a", 16, 18),
      cas(22, "k", "zz", "b", false, 17, 19),
      get(23, "k", "a", 20, 21),
    );
    expect(checkLinearizable(kvModel, ops, 100_000).ok).toBe(true);
    // The failed CAS still needs some write it did not expect: with "a" certainly current and no
    // timed-out put called early enough, it is a violation, pruned or not.
    const late = [
      put(21, "k", "a", 0, 1),
      cas(22, "k", "a", "b", false, 2, 3),
      ...Array.from({ length: 13 }, (_, c) => put(c, "k", `t${c}`, 4 + c, inf)),
    ];
    expect(checkLinearizable(kvModel, late, 100_000).ok).toBe(false);
  });

  it("keeps unobserved timed-out writes when a failed CAS may need them", () => {
    // The CAS failed although "a" was written last: only the timed-out put of "b" explains it.
    const ops = [
      put(1, "k", "a", 0, 1),
      put(2, "k", "b", 2, inf),
      cas(3, "k", "a", "c", false, 5, 6),
    ];
    expect(check(ops).ok).toBe(true);
    expect(check(ops.filter((op) => op.return !== inf)).ok).toBe(false);
  });
});

/** A random concurrent history on one key: any outputs (consistent or not), some timed out. */
const concurrentHistory = fc
  .array(
    fc.record({
      kind: fc.constantFrom("get", "put", "put", "cas", "cas"),
      call: fc.nat({ max: 20 }),
      length: fc.integer({ min: 1, max: 8 }),
      timedOut: fc.boolean(),
      seen: fc.nat({ max: 9 }),
      expected: fc.nat({ max: 9 }),
      ok: fc.boolean(),
    }),
    { minLength: 1, maxLength: 9 },
  )
  .map((specs) => {
    // Values are unique per write (w0, w1, ...); reads and CAS refer to them by index, or to null.
    const value = (n: number): string | null => (n === 0 ? null : `w${n - 1}`);
    return specs.map((s, i): Op => {
      const ret = s.timedOut ? inf : s.call + s.length;
      if (s.kind === "get")
        return ret === inf
          ? {
              clientId: i,
              input: { kind: "get", key: "k" },
              output: { kind: "unknown" },
              call: s.call,
              return: inf,
            }
          : get(i, "k", value(s.seen), s.call, ret);
      if (s.kind === "put") return put(i, "k", `w${i}`, s.call, ret);
      return cas(i, "k", value(s.expected), `w${i}`, s.timedOut ? "unknown" : s.ok, s.call, ret);
    });
  });

/** The verdict by brute force: some order of all operations that respects real time and the model. */
function linearizableByBruteForce(ops: Op[]): boolean {
  const state0 = kvModel.init();
  const place = (left: Op[], placed: Op[], state: ReturnType<typeof kvModel.init>): boolean => {
    if (left.length === 0) return true;
    return left.some((op, i) => {
      // `op` may go next only if no other operation left returned before it was called.
      if (left.some((other) => other !== op && other.return < op.call)) return false;
      const r = kvModel.step(state, op.input, op.output);
      return r.ok && place([...left.slice(0, i), ...left.slice(i + 1)], [...placed, op], r.state);
    });
  };
  return place(ops, [], state0);
}

describe("the search against brute force", () => {
  it("gives the same verdict on random concurrent histories of up to 6 operations", () => {
    fc.assert(
      fc.property(
        concurrentHistory.filter((ops) => ops.length <= 6),
        (ops) => check(ops).ok === linearizableByBruteForce(ops),
      ),
      { numRuns: 3000 },
    );
  });
});

describe("pruning timed-out writes", () => {
  it("never changes the verdict (random concurrent histories, pruned and unpruned)", () => {
    const unpruned = { ...kvModel, prune: undefined };
    fc.assert(
      fc.property(
        concurrentHistory,
        (ops) => checkLinearizable(kvModel, ops).ok === checkLinearizable(unpruned, ops).ok,
      ),
      { numRuns: 3000 },
    );
  });
});
