// What the clients of the txn simulator run, as generators: every `yield` is one round of
// messages (or a pause), and the scheduler (run.ts) may kill a generator at any yield, so a
// coordinator can vanish between any two steps of the protocol. The coordinator is the one the
// router runs (src/router, issue 20): prepare in parallel, decide in the record's group,
// resolve in parallel, forget. Recovery is what any reader or writer does with an old intent:
// decide abort by recovery (first decision wins: it gets the coordinator's commit back if that
// came first), resolve every participant as the record says, forget.
import type {
  Command,
  Key,
  TxnCompare,
  TxnIntent,
  TxnOp,
  TxnOpResult,
  WriteOutcome,
} from "../../../src/store/index.ts";
import { namespaceOf } from "../../../src/store/index.ts";
import type { Reply, Request } from "./world.ts";

export type Step =
  | { kind: "send"; requests: Request[]; timeoutTicks: number }
  | { kind: "sleep"; ticks: number };
export type Proc<T = void> = Generator<Step, T, (Reply | null)[]>;

/** Planted bugs (test only): each must turn the simulator red. */
export interface Bugs {
  /** Decide commit without waiting for every prepare to be durable (replies ignored). */
  commitBeforePrepared?: boolean;
  /** Recovery aborts the participants even when the record says commit. */
  abortAfterCommit?: boolean;
}

export interface ClientEnv {
  client: number;
  /** The client's clock (ms): the simulator's time plus this client's skew. */
  nowMs(): number;
  groupOf(namespace: string): number;
  newTxnId(): string;
  /** The harness learns each txn's participants when it starts (history ground truth). */
  begin(txnId: string, groups: number[]): void;
  bugs: Bugs;
  deadlineSpanMs: number;
}

export interface TxnSpec {
  compare: TxnCompare[];
  success: TxnOp[];
  failure: TxnOp[];
}

export type TxnAnswer =
  | { kind: "committed"; succeeded: boolean; results: TxnOpResult[] }
  | { kind: "aborted" }
  | { kind: "unknown" };

const timeoutTicks = 8;
const attemptsMax = 6;

function send(requests: Request[]): Step {
  return { kind: "send", requests, timeoutTicks };
}

/** Sends one request until it is answered (at most attemptsMax rounds); null: never answered. */
function* ask(request: Request): Proc<Reply | null> {
  for (let i = 0; i < attemptsMax; i++) {
    const [reply] = yield send([request]);
    if (reply !== null && reply !== undefined) return reply;
  }
  return null;
}

/** Sends each request until answered, all in parallel; the answers in request order. */
function* askAll(requests: Request[]): Proc<(Reply | null)[]> {
  const answers: (Reply | null)[] = requests.map(() => null);
  for (let i = 0; i < attemptsMax && answers.some((a) => a === null); i++) {
    const open = requests.map((_, j) => j).filter((j) => answers[j] === null);
    const replies = yield send(open.map((j) => requests[j]!));
    open.forEach((j, k) => {
      answers[j] = replies[k] ?? null;
    });
  }
  return answers;
}

function partsOf(env: ClientEnv, spec: TxnSpec): Map<number, TxnSpec> {
  const parts = new Map<number, TxnSpec>();
  const part = (key: Key) => {
    const g = env.groupOf(namespaceOf(key));
    if (!parts.has(g)) parts.set(g, { compare: [], success: [], failure: [] });
    return parts.get(g)!;
  };
  for (const c of spec.compare) part(c.key).compare.push(c);
  for (const o of spec.success) part(o.key).success.push(o);
  for (const o of spec.failure) part(o.key).failure.push(o);
  return parts;
}

/** One txn over any keys: one group takes the single-shard path, several take 2PC. */
export function* runTxn(env: ClientEnv, spec: TxnSpec): Proc<TxnAnswer> {
  const parts = partsOf(env, spec);
  const keys = [...spec.compare, ...spec.success, ...spec.failure].map((x) => x.key);
  if (parts.size === 1) {
    // One namespace: the single-shard txn; several on one shard: shardTxn, one round too.
    const [group] = parts.keys();
    const type = new Set(keys.map(namespaceOf)).size === 1 ? "txn" : "shardTxn";
    const command: Command = { type, atMs: env.nowMs(), ...spec };
    const reply = yield* ask({ group: group!, command });
    if (reply === null) return { kind: "unknown" };
    if (reply.type === "intent") {
      yield* recover(env, reply.intent);
      return { kind: "aborted" };
    }
    if (reply.type !== "txn") throw new Error(`txn answered ${reply.type}`);
    return { kind: "committed", succeeded: reply.succeeded, results: reply.results };
  }
  return yield* twoPhase(env, spec, parts);
}

function* twoPhase(env: ClientEnv, spec: TxnSpec, parts: Map<number, TxnSpec>): Proc<TxnAnswer> {
  const txnId = env.newTxnId();
  const groups = [...parts.keys()];
  env.begin(txnId, groups);
  const namespaces = groups.map((g) => firstNamespace(parts.get(g)!));
  const recordNamespace = namespaces[0]!;
  const deadlineMs = env.nowMs() + env.deadlineSpanMs;
  const requests = groups.map((group) => {
    const command: Command = {
      type: "txnPrepare",
      atMs: env.nowMs(),
      txnId,
      ...parts.get(group)!,
      recordNamespace,
      participants: namespaces,
      deadlineMs,
      // Audited, as the API's are: a commit over several namespaces files a record in each.
      audit: { actor: { kind: "token", id: `client-${env.client}` }, requestId: txnId },
    };
    return { group, command };
  });
  // The planted bug sends the prepares but decides before their answers can be back.
  const answered = yield {
    kind: "send",
    requests,
    timeoutTicks: env.bugs.commitBeforePrepared ? 1 : timeoutTicks,
  };
  const prepared = env.bugs.commitBeforePrepared
    ? requests.map((): Reply => ({ type: "txnPrepared", revision: 0, txnId, held: true }))
    : answered;
  const base = { txnId, deadlineMs, groups, recordGroup: env.groupOf(recordNamespace) };
  if (!prepared.every((r) => r?.type === "txnPrepared")) {
    yield* finish(env, { ...base, decision: "abort" });
    for (const r of prepared) if (r?.type === "intent") yield* recover(env, r.intent);
    return { kind: "aborted" };
  }
  const held = prepared.every((r) => r?.type === "txnPrepared" && r.held);
  const branch = held ? ("success" as const) : ("failure" as const);
  const decided = yield* ask({
    group: base.recordGroup,
    command: {
      type: "txnRecordDecide",
      atMs: env.nowMs(),
      txnId,
      decision: "commit",
      branch,
      deadlineMs,
      by: "coordinator",
      recordNamespace,
      participants: namespaces,
      resolveHere: true,
    },
  });
  if (decided === null || decided.type !== "txnDecision") return { kind: "unknown" };
  if (decided.decision !== "commit" || decided.resolved === undefined) {
    yield* finish(env, { ...base, decision: "abort" });
    return { kind: "aborted" };
  }
  // The record's group (the first participant's) resolved its part with the decision.
  const rest = { ...base, groups: groups.filter((g) => g !== base.recordGroup) };
  const results = yield* finish(env, { ...rest, decision: "commit", branch });
  if (results === null) return { kind: "unknown" };
  return { kind: "committed", succeeded: held, results: [...decided.resolved.results, ...results] };
}

function firstNamespace(part: TxnSpec): string {
  return namespaceOf((part.compare[0] ?? part.success[0] ?? part.failure[0])!.key);
}

interface Finish {
  txnId: string;
  deadlineMs: number;
  groups: number[];
  recordGroup: number;
  decision: "commit" | "abort";
  branch?: "success" | "failure";
}

/** Resolves every participant as decided, then forgets the record; the results, or null. */
function* finish(env: ClientEnv, f: Finish): Proc<TxnOpResult[] | null> {
  const branch = f.branch === undefined ? {} : { branch: f.branch };
  const answers = yield* askAll(
    f.groups.map((group) => ({
      group,
      command: {
        type: "txnResolve",
        atMs: env.nowMs(),
        txnId: f.txnId,
        decision: f.decision,
        ...branch,
        deadlineMs: f.deadlineMs,
      },
    })),
  );
  if (answers.some((a) => a === null)) return null;
  yield send([
    {
      group: f.recordGroup,
      command: { type: "txnRecordForget", atMs: env.nowMs(), txnId: f.txnId },
    },
  ]);
  return answers.flatMap((a) => (a?.type === "txnResolved" ? a.results : []));
}

/** Resolves an intent from its record once its deadline has passed; true when it is gone. */
export function* recover(env: ClientEnv, intent: TxnIntent): Proc<boolean> {
  if (env.nowMs() < intent.deadlineMs) return false;
  const recordGroup = env.groupOf(intent.recordNamespace);
  const decided = yield* ask({
    group: recordGroup,
    command: {
      type: "txnRecordDecide",
      atMs: env.nowMs(),
      txnId: intent.txnId,
      decision: "abort",
      deadlineMs: intent.deadlineMs,
      by: "recovery",
      recordNamespace: intent.recordNamespace,
      participants: intent.participants,
    },
  });
  if (decided === null || decided.type !== "txnDecision" || decided.decision === "undecided")
    return false;
  const decision = env.bugs.abortAfterCommit ? "abort" : decided.decision;
  const groups = [...new Set(intent.participants.map((n) => env.groupOf(n)))];
  const done = yield* finish(env, {
    txnId: intent.txnId,
    deadlineMs: intent.deadlineMs,
    groups,
    recordGroup,
    decision,
    ...(decision === "commit" && decided.branch !== undefined ? { branch: decided.branch } : {}),
  });
  return done !== null;
}

/**
 * A linearizable read: the committed value, unless a txn holds a write intent on the key, which
 * the read waits out (bounded) or, past the deadline, resolves. `anyIntent`: a read intent too
 * (as a write meeting it would). undefined: no answer in time.
 */
export function* readKey(
  env: ClientEnv,
  key: Key,
  attempts = attemptsMax,
  anyIntent = false,
): Proc<string | null | undefined> {
  for (let i = 0; i < attempts; i++) {
    const [reply] = yield send([{ group: env.groupOf(namespaceOf(key)), read: key }]);
    if (reply === null || reply === undefined || reply.type !== "read") continue;
    if (reply.intent !== null && (reply.intent.write || anyIntent)) {
      const gone = yield* recover(env, reply.intent);
      if (!gone) yield { kind: "sleep", ticks: 3 };
      continue;
    }
    const r = reply.result;
    return r.type === "found" ? new TextDecoder().decode(r.value) : null;
  }
  return undefined;
}

export type { WriteOutcome };
