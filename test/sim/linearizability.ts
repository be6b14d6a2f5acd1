// Linearizability checker: Wing & Gong's search with Lowe's memoization, as in Porcupine
// (github.com/anishathalye/porcupine). The history is split by the model's partition (the key);
// each partition is checked alone. An operation whose outcome is unknown (the client timed out)
// has return time +Infinity, so the search may place it anywhere after its call, including after
// every other operation — which is the same as "never took effect".

/** A sequential specification. `step` must be deterministic. */
export interface Model<S, I, O> {
  init(): S;
  partition(input: I): string;
  /** A canonical string for a state, for the memo table. */
  stateKey(state: S): string;
  step(state: S, input: I, output: O): { ok: boolean; state: S };
  describe(input: I, output: O): string;
  /**
   * Optional: drops operations of one partition that cannot matter (e.g. a timed-out write that
   * nothing observed), keeping the search from trying every order of them. Must be sound: the
   * pruned history is linearizable exactly when the original one is.
   */
  prune?(ops: Operation<I, O>[]): Operation<I, O>[];
  /**
   * Optional: true when an operation that never returned (return = Infinity) steps ok from every
   * state. Once only such operations are left, the partition is linearizable (they go last, in
   * any order), and the search stops there.
   */
  unreturnedAlwaysStep?: boolean;
}

export interface Operation<I, O> {
  clientId: number;
  input: I;
  output: O;
  /** Logical time of the invocation. */
  call: number;
  /** Logical time of the response; Infinity when the outcome is unknown. */
  return: number;
}

export type CheckResult =
  | { ok: true; partitions: number; operations: number }
  | { ok: false; partition: string; explanation: string };

/**
 * Bounds the search so a pathological history fails loudly instead of hanging a CI run. 5 M
 * (~2 s) was too tight for the simulator's churn histories: seed 942634 (23 operations on one key,
 * 16 of them timed out, chained through the values their CAS expect, so pruning keeps most)
 * needs ~12 s even with known outcomes tried first. 100 M steps is about a minute.
 */
export const searchStepsMaxDefault = 100_000_000;

interface Node<I, O> {
  op: Operation<I, O>;
  id: number;
  isCall: boolean;
  time: number;
  match: Node<I, O> | null; // call -> its return node
  prev: Node<I, O> | null;
  next: Node<I, O> | null;
}

export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  searchStepsMax = searchStepsMaxDefault,
): CheckResult {
  const partitions = new Map<string, Operation<I, O>[]>();
  for (const op of history) {
    if (!(op.call < op.return))
      throw new Error(`operation returns before it is called: ${JSON.stringify(op)}`);
    const key = model.partition(op.input);
    let ops = partitions.get(key);
    if (ops === undefined) partitions.set(key, (ops = []));
    ops.push(op);
  }
  for (const [key, ops] of [...partitions].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const verdict = checkPartition(model, model.prune?.(ops) ?? ops, searchStepsMax);
    if (verdict !== null) return { ok: false, partition: key, explanation: verdict };
  }
  return { ok: true, partitions: partitions.size, operations: history.length };
}

/** Null when linearizable; otherwise a human-readable explanation. */
function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: Operation<I, O>[],
  searchStepsMax: number,
): string | null {
  const head = buildEventList(ops);
  const linearized = new Bitset(ops.length);
  const seen = new Set<string>();
  // Each step tries the operations that may go next (calls before the first return) in two
  // passes: those with a known outcome first, then those that timed out. Any order finds a
  // linearization if there is one; this one finds it early in the common case (timed-out writes
  // that go last), where call order first tried subsets of them (seed 2000619 with --ticks 2000:
  // over 100 M steps, now 0.3 s).
  const stack: { call: Node<I, O>; state: S; timedOutPass: boolean }[] = [];
  let state = model.init();
  let entry = head.next;
  let timedOutPass = false;
  let longest: Node<I, O>[] = [];
  // Operations with a return time still to place: none left is the end (Model.unreturnedAlwaysStep).
  let returnedLeft = ops.filter((op) => op.return !== Infinity).length;
  const doneWhenOnlyUnreturned = model.unreturnedAlwaysStep === true;
  for (
    let steps = 0;
    head.next !== null && !(doneWhenOnlyUnreturned && returnedLeft === 0);
    steps++
  ) {
    if (steps > searchStepsMax) {
      const listed = ops.map((op) => `  ${JSON.stringify(op)}`).join("\n");
      throw new Error(
        `linearizability search exceeded ${searchStepsMax} steps on ${ops.length} operations:\n${listed}`,
      );
    }
    if (entry === null)
      throw new Error("linearizability: walked off the event list (bug in checker)");
    if (entry.isCall) {
      if ((entry.op.return === Infinity) !== timedOutPass) {
        entry = entry.next; // not this pass's
        continue;
      }
      const result = model.step(state, entry.op.input, entry.op.output);
      if (result.ok) {
        linearized.set(entry.id);
        const memoKey = `${linearized.key()}|${model.stateKey(result.state)}`;
        if (!seen.has(memoKey)) {
          seen.add(memoKey);
          stack.push({ call: entry, state, timedOutPass });
          state = result.state;
          lift(entry);
          if (entry.op.return !== Infinity) returnedLeft--;
          entry = head.next;
          timedOutPass = false;
          continue;
        }
        linearized.clear(entry.id);
      }
      entry = entry.next;
    } else if (!timedOutPass) {
      // Every candidate with a known outcome was tried: now the timed-out ones.
      timedOutPass = true;
      entry = head.next;
    } else {
      // A response is reached with its call not yet linearized: backtrack.
      if (stack.length > longest.length) longest = stack.map((s) => s.call);
      const top = stack.pop();
      if (top === undefined) return explain(model, ops, longest);
      state = top.state;
      linearized.clear(top.call.id);
      unlift(top.call);
      if (top.call.op.return !== Infinity) returnedLeft++;
      entry = top.call.next;
      timedOutPass = top.timedOutPass;
    }
  }
  return null;
}

/** Sorted call/return events in a doubly linked list behind a sentinel head. */
function buildEventList<I, O>(ops: Operation<I, O>[]): Node<I, O> {
  const events: Node<I, O>[] = [];
  ops.forEach((op, id) => {
    const call: Node<I, O> = {
      op,
      id,
      isCall: true,
      time: op.call,
      match: null,
      prev: null,
      next: null,
    };
    const ret: Node<I, O> = {
      op,
      id,
      isCall: false,
      time: op.return,
      match: null,
      prev: null,
      next: null,
    };
    call.match = ret;
    events.push(call, ret);
  });
  // Ties: a call sorts before a return, so operations that touch are treated as concurrent.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Node<I, O> = {
    op: ops[0] as Operation<I, O>,
    id: -1,
    isCall: false,
    time: -Infinity,
    match: null,
    prev: null,
    next: null,
  };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  return head;
}

function lift<I, O>(call: Node<I, O>): void {
  unlink(call);
  unlink(call.match as Node<I, O>);
}

function unlift<I, O>(call: Node<I, O>): void {
  relink(call.match as Node<I, O>);
  relink(call);
}

function unlink<I, O>(n: Node<I, O>): void {
  (n.prev as Node<I, O>).next = n.next;
  if (n.next !== null) n.next.prev = n.prev;
}

/** Undo of unlink; valid because lifts are undone in reverse order. */
function relink<I, O>(n: Node<I, O>): void {
  (n.prev as Node<I, O>).next = n;
  if (n.next !== null) n.next.prev = n;
}

function explain<S, I, O>(
  model: Model<S, I, O>,
  ops: Operation<I, O>[],
  longest: Node<I, O>[],
): string {
  const fmt = (op: Operation<I, O>) =>
    `  client ${op.clientId} [${op.call}, ${op.return === Infinity ? "inf" : op.return}] ${model.describe(op.input, op.output)}`;
  const inPrefix = new Set(longest.map((n) => n.op));
  const sorted = [...ops].sort((a, b) => a.call - b.call);
  return [
    `not linearizable: no order of these ${ops.length} operations fits the sequential model.`,
    `Longest linearizable prefix found (${longest.length} ops):`,
    ...longest.map((n) => fmt(n.op)),
    `Operations that could not be placed after it:`,
    ...sorted
      .filter((op) => !inPrefix.has(op))
      .slice(0, 40)
      .map(fmt),
  ].join("\n");
}

class Bitset {
  private readonly words: Uint32Array;
  constructor(bits: number) {
    this.words = new Uint32Array(Math.ceil(bits / 32) || 1);
  }
  set(i: number): void {
    this.words[i >>> 5] = (this.words[i >>> 5] as number) | (1 << (i & 31));
  }
  clear(i: number): void {
    this.words[i >>> 5] = (this.words[i >>> 5] as number) & ~(1 << (i & 31));
  }
  key(): string {
    return Array.prototype.join.call(this.words, ",");
  }
}
