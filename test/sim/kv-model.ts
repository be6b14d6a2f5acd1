// The sequential specification of the KV store the simulator's clients use: get, put and
// compare-and-set on string keys. The linearizability checker searches for an order of the
// observed operations that this model accepts. Partitioned by key: operations on different keys
// never constrain each other, which keeps the search small (P-compositionality).
import type { Model } from "./linearizability.ts";

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
