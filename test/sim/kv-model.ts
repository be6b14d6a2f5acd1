// The sequential specification of the KV store the simulator's clients use: get, put and
// compare-and-set on string keys. The linearizability checker searches for an order of the
// observed operations that this model accepts. Partitioned by key: operations on different keys
// never constrain each other, which keeps the search small (P-compositionality).
import type { Model, Operation } from "./linearizability.ts";

export type KvInput =
  | { kind: "get"; key: string }
  | { kind: "put"; key: string; value: string }
  /** `expected: null` means "only if the key is absent". */
  | { kind: "cas"; key: string; expected: string | null; value: string };

export type KvOutput =
  | { kind: "get"; value: string | null }
  | { kind: "put" }
  | { kind: "cas"; ok: boolean }
  /** The client gave up: the write may or may not have taken effect. */
  | { kind: "unknown" };

/** The value of one key; null when absent. */
export type KvValue = string | null;

export const kvModel: Model<KvValue, KvInput, KvOutput> = {
  init: () => null,
  partition: (input) => input.key,
  stateKey: (state) => (state === null ? "\u0000absent" : `=${state}`),
  step(state, input, output) {
    switch (input.kind) {
      case "get":
        if (output.kind === "unknown") return { ok: true, state };
        return { ok: output.kind === "get" && output.value === state, state };
      case "put":
        // A put with an unknown outcome is linearized like a completed one; because its return
        // time is +infinity the search may also place it after everything, i.e. "never happened".
        return { ok: output.kind === "put" || output.kind === "unknown", state: input.value };
      case "cas": {
        const matches = state === input.expected;
        const next = matches ? input.value : state;
        if (output.kind === "unknown") return { ok: true, state: next };
        return { ok: output.kind === "cas" && output.ok === matches, state: next };
      }
    }
  },
  prune: pruneUnobservedWrites,
  // get, put and cas whose outcome is unknown step ok from any state (see step above).
  unreturnedAlwaysStep: true,
  describe(input, output) {
    const out = describeOutput(output);
    switch (input.kind) {
      case "get":
        return `get(${input.key}) -> ${out}`;
      case "put":
        return `put(${input.key}, ${input.value}) -> ${out}`;
      case "cas":
        return `cas(${input.key}, ${String(input.expected)} => ${input.value}) -> ${out}`;
    }
  },
};

function describeOutput(output: KvOutput): string {
  switch (output.kind) {
    case "get":
      return String(output.value);
    case "put":
      return "ok";
    case "cas":
      return output.ok ? "ok" : "failed";
    case "unknown":
      return "unknown (timed out)";
  }
}

/**
 * A write whose outcome is unknown and whose value nobody observed (no get returned it, no CAS
 * expected it; values are unique per write) can be linearized last, where it affects nothing:
 * drop it. Why that is sound: take a linearization of the whole history and move such a write to
 * the end. Until the next write, nothing could see its value except a failed CAS, and a CAS whose
 * outcome is unknown, which failed there and goes to the end too (nothing saw its value either).
 *
 * A failed CAS is the exception: it may need an unobserved value to be current. But any
 * unobserved value does, and each failed CAS needs at most one write, so keeping the k
 * earliest-called of those puts (k = failed CASes) is enough: the j-th needed write (by call
 * time) is replaced by the j-th kept one, which was called no later, so it fits at the same place.
 * CAS writes of unknown outcome are kept then (one that succeeds is not interchangeable).
 * A sweep found histories of 13 timed-out puts and a failed CAS that the unpruned search could not
 * finish in 5 M steps.
 */
function pruneUnobservedWrites(
  ops: Operation<KvInput, KvOutput>[],
): Operation<KvInput, KvOutput>[] {
  const observed = new Set<string | null>();
  let failedCas = 0;
  for (const op of ops) {
    if (op.input.kind === "get" && op.output.kind === "get") observed.add(op.output.value);
    if (op.input.kind === "cas") observed.add(op.input.expected);
    if (op.output.kind === "cas" && !op.output.ok) failedCas++;
  }
  const unobserved = (op: Operation<KvInput, KvOutput>) =>
    op.output.kind === "unknown" && op.input.kind !== "get" && !observed.has(op.input.value);
  if (failedCas === 0) return ops.filter((op) => !unobserved(op));
  const spare = ops
    .filter((op) => unobserved(op) && op.input.kind === "put")
    .sort((a, b) => a.call - b.call)
    .slice(failedCas);
  const dropped = new Set(spare);
  return ops.filter((op) => !dropped.has(op));
}
