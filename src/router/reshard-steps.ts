// Moving one namespace from its shard to another, one idempotent step at a time (issue 18,
// docs/ARCHITECTURE.md "Resharding moves whole namespaces"). A step reads or proposes on one
// shard and returns the record to keep; a driver that stops anywhere (a Worker restart, a leader
// lost, a partition) resumes from the last record kept and repeats at most that step, which the
// store makes harmless (src/store/moves.ts: per-key monotone imports, a sticky flip).
//
//   copy      every key, a chunk at a time (the source keeps taking writes)
//   catchUp   the keys written since the previous pass began, until a pass is small
//   fence     the pause, as one step: the source stops the namespace's writes (`moved`: the
//             router retries them); one more pass since the last one began (the target now
//             equals the source); the source flips (its reads go too: the namespace belongs to
//             the target); the target opens it for writes (until then they answer `moving`)
//   drop      the source forgets its copy (the fence stays, to redirect stale routers)
//
// Writes of the namespace pause from the fence to the activation: one pass of the keys written
// during the last catch-up plus three log entries, and no directory write (a record saved
// between them would cost a Raft round of the directory each). The order matters: a flip before
// the final pass, or an activation before the flip, would let a write land where it is then
// overwritten or unseen (test/sim/reshard.test.ts plants both).
import type {
  Command,
  NamespaceMoveRecord,
  NamespaceExportQuery,
  NamespaceExportResult,
  Revision,
  TxnIntent,
  WriteOutcome,
} from "../store/index.ts";

/** What the steps need: a leader read of a chunk, and proposals on one shard. */
export interface MoveIo {
  exportChunk(shard: number, query: NamespaceExportQuery): Promise<NamespaceExportResult>;
  /** The outcome once applied; rejects when the outcome is unknown (the step is then repeated). */
  propose(shard: number, command: Command): Promise<WriteOutcome>;
  nowMs(): number;
  /**
   * A cross-shard txn keeps the namespace from being fenced (src/store/moves-fence.ts): finish
   * it from its record once its deadline has passed (txn-coordinator.ts recoverIntent), else
   * wait a little; the fence is then tried again.
   */
  txnInTheWay(intent: TxnIntent): Promise<void>;
}

export type NamespaceMove = NamespaceMoveRecord;
export type MoveStep = NamespaceMove["step"];

export const moveLimits = {
  /** A catch-up pass this small ends the catch-up: the fence's pause is one such pass. */
  catchUpKeysMax: 64,
  /** Catch-up passes before fencing anyway (a namespace written faster than it is copied). */
  catchUpsMax: 4,
} as const;

/** A move the store refuses (a full target, a namespace served there): the reshard fails. */
export class MoveError extends Error {
  override name = "MoveError";
}

export function newMove(namespace: string, from: number, to: number, epoch: number): NamespaceMove {
  return {
    namespace,
    from,
    to,
    epoch,
    step: "copy",
    since: 0,
    catchUps: 0,
    flippedAt: 0,
    bytes: 0,
    keys: 0,
    fencedAtMs: 0,
    pauseMs: 0,
  };
}

/** Takes the move's next step; the record to keep after it. */
export async function advanceMove(io: MoveIo, m: NamespaceMove): Promise<NamespaceMove> {
  switch (m.step) {
    case "copy":
    case "catchUp":
      return afterPass(m, await copyPass(io, m));
    case "fence":
      return fenceToActivation(io, m);
    // Records of a release that saved these steps apart: each finishes the pause from where it is.
    case "final":
    case "flip":
    case "activate":
      return fenceToActivation(io, m);
    case "drop":
      await expectMove(io, m.from, {
        type: "namespaceDrop",
        atMs: io.nowMs(),
        namespace: m.namespace,
      });
      return { ...m, step: "done" };
    case "done":
      return m;
  }
}

interface Pass {
  /** The revision of the pass's first chunk: the next pass starts after it. */
  startedAt: Revision;
  keys: number;
  bytes: number;
}

/**
 * The write pause, as one step with no record saved inside it (each save is a directory write,
 * a Raft round of its own): fence, the final pass, flip, activate. Repeating it from its start
 * is harmless: the fence is idempotent, and a fence already flipped says the final pass was done
 * (the flip follows it), so the target, perhaps activated and taking writes, is not imported
 * into again; the activation is idempotent too.
 */
async function fenceToActivation(io: MoveIo, m: NamespaceMove): Promise<NamespaceMove> {
  // A repeat measures from its own fence: the first try's clock was not saved.
  const fencedAtMs = io.nowMs();
  const command = fenceCommand(io, m, false);
  const outcome = await io.propose(m.from, command);
  if (outcome.type === "intent") {
    await io.txnInTheWay(outcome.intent);
    return m;
  }
  const fenced = moveOutcome(m.from, command, outcome);
  let moved = { ...m, fencedAtMs };
  if (fenced.type === "namespaceMove" && fenced.step !== "flipped") {
    const last = await copyPass(io, m);
    const flipped = await expectMove(io, m.from, fenceCommand(io, m, true));
    const { bytes, keys } = { bytes: m.bytes + last.bytes, keys: m.keys + last.keys };
    moved = { ...moved, since: last.startedAt, bytes, keys, flippedAt: flipped.revision };
  } else moved = { ...moved, flippedAt: Math.max(m.flippedAt, fenced.revision) };
  const activate = {
    type: "namespaceActivate" as const,
    atMs: io.nowMs(),
    namespace: m.namespace,
    atRevision: moved.flippedAt,
  };
  await expectMove(io, m.to, activate);
  return { ...moved, step: "drop", pauseMs: Math.max(0, io.nowMs() - fencedAtMs) };
}

function afterPass(m: NamespaceMove, pass: Pass): NamespaceMove {
  const copied = {
    ...m,
    since: pass.startedAt,
    bytes: m.bytes + pass.bytes,
    keys: m.keys + pass.keys,
  };
  if (m.step === "copy") return { ...copied, step: "catchUp" };
  const small = pass.keys <= moveLimits.catchUpKeysMax || m.catchUps + 1 >= moveLimits.catchUpsMax;
  return { ...copied, step: small ? "fence" : "catchUp", catchUps: m.catchUps + 1 };
}

/** Every chunk of the keys written after `m.since`, installed on the target in key order. */
async function copyPass(io: MoveIo, m: NamespaceMove): Promise<Pass> {
  let cursor: string | undefined;
  let startedAt: Revision | undefined;
  let keys = 0;
  let bytes = 0;
  for (;;) {
    const query = {
      namespace: m.namespace,
      sinceRevision: m.since,
      ...(cursor === undefined ? {} : { cursor }),
    };
    const chunk = await io.exportChunk(m.from, query);
    if (chunk.type === "invalid") throw new MoveError(chunk.detail);
    startedAt ??= chunk.image.atRevision;
    await expectMove(io, m.to, { type: "namespaceImport", atMs: io.nowMs(), image: chunk.image });
    keys += chunk.image.keys.length;
    bytes += chunk.bytes;
    if (chunk.image.cursor === null) return { startedAt, keys, bytes };
    cursor = chunk.image.cursor;
  }
}

function fenceCommand(io: MoveIo, m: NamespaceMove, flipped: boolean): Command {
  const fence = {
    type: "namespaceFence" as const,
    atMs: io.nowMs(),
    namespace: m.namespace,
    epoch: m.epoch,
    shard: m.to,
  };
  return flipped ? { ...fence, flipped: true } : fence;
}

async function expectMove(io: MoveIo, shard: number, command: Command): Promise<WriteOutcome> {
  return moveOutcome(shard, command, await io.propose(shard, command));
}

function moveOutcome(shard: number, command: Command, outcome: WriteOutcome): WriteOutcome {
  if (outcome.type === "namespaceMove") return outcome;
  const why = outcome.type === "invalid" ? outcome.detail : JSON.stringify(outcome);
  throw new MoveError(`shard ${shard} refused ${command.type} of the namespace: ${why}`);
}
