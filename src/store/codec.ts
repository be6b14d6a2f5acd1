// Commands as Raft entry data. Canonical: fields are written in a fixed order and optional fields
// only when set, so a command has exactly one encoding (the idempotency fingerprint relies on it).
// Format 1 is the framing of framing.ts; a new format gets a new number and both are decoded
// while old and new code run side by side during a deploy.
import { assert } from "./assert.ts";
import { canonicalTopology } from "./cluster.ts";
import { decodeFrame, encodeFrame, withLastBodyField } from "./framing.ts";
import { canonicalMove, isMoveCommand } from "./moves-codec.ts";
import { assertCommandShape } from "./shape.ts";
import type {
  Command,
  CommandAudit,
  CoordinationCommand,
  Fence,
  KvEntry,
  NamespaceWriteCommand,
  TxnCompare,
  TxnKeyedAnswer,
  TxnOp,
  TxnOpResult,
  TxnProtocolCommand,
} from "./types.ts";

const commandFormat = 1;

export function encodeCommand(command: Command): Uint8Array {
  return encodeFrame(commandFormat, canonicalCommand(command));
}

/**
 * The encoding of a put or txn command with the leader's schema verdict (Store.vouch), from the
 * encoding of the command without one. schemasVouched is the last field of both bodies
 * (canonicalCommand), so the bytes are those encodeCommand gives: the state machine cannot tell.
 */
export function withSchemasVouched(entry: Uint8Array, revision: number): Uint8Array {
  return withLastBodyField(entry, "schemasVouched", revision);
}

/** Decodes entry data written by encodeCommand; anything else is a programmer error (asserts). */
export function decodeCommand(bytes: Uint8Array): Command {
  const { format, body } = decodeFrame(bytes);
  assert(format === commandFormat, `unknown command format ${format}`);
  assertCommandShape(body);
  return body;
}

/** The command with its fields in canonical order; undefined optional fields dropped. */
export function canonicalCommand(c: Command): Command {
  const base = {
    atMs: c.atMs,
    ...(c.idempotencyKey === undefined ? {} : { idempotencyKey: c.idempotencyKey }),
    ...auditOf(c),
  };
  switch (c.type) {
    case "put":
      return {
        type: c.type,
        ...base,
        key: c.key,
        value: c.value,
        contentType: c.contentType,
        ...(c.ifMatch === undefined ? {} : { ifMatch: c.ifMatch }),
        ...(c.ifNoneMatch === undefined ? {} : { ifNoneMatch: c.ifNoneMatch }),
        ...(c.lease === undefined ? {} : { lease: c.lease }),
        ...fenceOf(c),
        ...vouchedOf(c),
      };
    case "delete":
      return {
        type: c.type,
        ...base,
        key: c.key,
        ...(c.ifMatch === undefined ? {} : { ifMatch: c.ifMatch }),
        ...fenceOf(c),
      };
    case "txn":
    case "shardTxn":
      return {
        type: c.type,
        ...base,
        compare: c.compare.map(canonicalCompare),
        success: c.success.map(canonicalOp),
        failure: c.failure.map(canonicalOp),
        ...fenceOf(c),
        ...vouchedOf(c),
      };
    case "tokenCreate":
      return {
        type: c.type,
        ...base,
        id: c.id,
        hashHex: c.hashHex,
        scopes: c.scopes.map((s) => ({ namespaces: [...s.namespaces], ops: [...s.ops] })),
        ...(c.expiresAtMs === undefined ? {} : { expiresAtMs: c.expiresAtMs }),
        createdAtMs: c.createdAtMs,
        ...(c.name === undefined ? {} : { name: c.name }),
      };
    case "tokenRevoke":
      return { type: c.type, ...base, id: c.id };
    case "namespaceSet":
      return { type: c.type, ...base, namespace: c.namespace, publicRead: c.publicRead };
    case "clusterSet":
      return { type: c.type, ...base, ifEpoch: c.ifEpoch, topology: canonicalTopology(c.topology) };
    case "schemaSet":
      return {
        type: c.type,
        ...base,
        namespace: c.namespace,
        schemas: c.schemas.map((r) => ({ prefix: r.prefix, schema: r.schema })),
        ...(c.force === true ? { force: true } : {}),
      };
    default:
      return isMoveCommand(c) ? canonicalMove(c, base) : canonicalRest(c, base);
  }
}

function canonicalRest(
  c: CoordinationCommand | TxnProtocolCommand | NamespaceWriteCommand,
  base: { atMs: number; audit?: CommandAudit },
): Command {
  if (c.type === "namespaceApply" || c.type === "namespaceRollback")
    return canonicalNamespaceWrite(c, base);
  return c.type.startsWith("txn")
    ? canonicalTxnProtocol(c as TxnProtocolCommand, base)
    : canonicalCoordination(c as CoordinationCommand, base);
}

function canonicalCoordination(
  c: CoordinationCommand,
  base: { atMs: number; audit?: CommandAudit },
): Command {
  switch (c.type) {
    case "leaseGrant":
      return { type: c.type, ...base, namespace: c.namespace, ttlMs: c.ttlMs };
    case "leaseKeepAlive":
    case "leaseRevoke":
    case "leaseExpire":
      return { type: c.type, ...base, id: c.id };
    case "leasesExtend":
      return { type: c.type, ...base, extendMs: c.extendMs };
    case "lockAcquire":
      return { type: c.type, ...base, lock: c.lock, lease: c.lease, wait: c.wait };
    case "lockWithdraw":
      return { type: c.type, ...base, lock: c.lock, lease: c.lease };
    case "lockRelease":
      return { type: c.type, ...base, lock: c.lock, fencingToken: c.fencingToken };
  }
}

function canonicalTxnProtocol(
  c: TxnProtocolCommand,
  base: { atMs: number; audit?: CommandAudit },
): Command {
  const branch = "branch" in c && c.branch !== undefined ? { branch: c.branch } : {};
  switch (c.type) {
    case "txnPrepare":
      return {
        type: c.type,
        ...base,
        txnId: c.txnId,
        compare: c.compare.map(canonicalCompare),
        success: c.success.map(canonicalOp),
        failure: c.failure.map(canonicalOp),
        recordNamespace: c.recordNamespace,
        participants: [...c.participants],
        deadlineMs: c.deadlineMs,
        ...fenceOf(c),
        ...(c.staging === true ? { staging: true as const } : {}),
        ...(c.forgets === undefined ? {} : { forgets: [...c.forgets] }),
        ...(c.idempotency === undefined
          ? {}
          : { idempotency: { key: c.idempotency.key, fingerprint: c.idempotency.fingerprint } }),
      };
    case "txnResolve":
      return {
        type: c.type,
        ...base,
        txnId: c.txnId,
        decision: c.decision,
        ...branch,
        deadlineMs: c.deadlineMs,
      };
    case "txnRecordDecide":
    case "txnRecordSettle": {
      // The same fields in the same order; a decide may end with resolveHere.
      const record = {
        type: c.type,
        ...base,
        txnId: c.txnId,
        decision: c.decision,
        ...branch,
        deadlineMs: c.deadlineMs,
        by: c.by,
        recordNamespace: c.recordNamespace,
        participants: [...c.participants],
      } as Command;
      const here = c.type === "txnRecordDecide" && c.resolveHere === true;
      return here ? ({ ...record, resolveHere: true } as Command) : record;
    }
    case "txnRecordForget":
      return { type: c.type, ...base, txnId: c.txnId };
    case "txnForget":
      return {
        type: c.type,
        ...base,
        txnId: c.txnId,
        ...(c.answer === undefined ? {} : { answer: canonicalAnswer(c.answer) }),
      };
    case "txnProbe":
      return { type: c.type, ...base, txnId: c.txnId, deadlineMs: c.deadlineMs };
  }
}

function canonicalNamespaceWrite(
  c: NamespaceWriteCommand,
  base: { atMs: number; audit?: CommandAudit },
): Command {
  const tail = c.ifRevision === undefined ? {} : { ifRevision: c.ifRevision };
  if (c.type === "namespaceRollback")
    return { type: c.type, ...base, namespace: c.namespace, toRevision: c.toRevision, ...tail };
  return {
    type: c.type,
    ...base,
    namespace: c.namespace,
    entries: c.entries.map((e) => ({ name: e.name, value: e.value, contentType: e.contentType })),
    prune: c.prune,
    ...tail,
  };
}

/** Absent unless set, so a command without one encodes as it did before audit existed. */
function auditOf(c: { audit?: CommandAudit }): { audit?: CommandAudit } {
  const a = c.audit;
  if (a === undefined) return {};
  const actor = a.actor;
  return {
    audit: {
      ...(actor === undefined
        ? {}
        : {
            actor: {
              kind: actor.kind,
              ...(actor.id === undefined ? {} : { id: actor.id }),
              ...(actor.name === undefined ? {} : { name: actor.name }),
            },
          }),
      ...(a.reason === undefined ? {} : { reason: a.reason }),
      ...(a.requestId === undefined ? {} : { requestId: a.requestId }),
    },
  };
}

/** Absent unless set, so an unfenced write encodes as it did before fences existed. */
function fenceOf(c: { fence?: Fence }): { fence?: Fence } {
  return c.fence === undefined ? {} : { fence: { lock: c.fence.lock, token: c.fence.token } };
}

function vouchedOf(c: { schemasVouched?: number }): { schemasVouched?: number } {
  return c.schemasVouched === undefined ? {} : { schemasVouched: c.schemasVouched };
}

function canonicalCompare(c: TxnCompare): TxnCompare {
  return { key: c.key, target: c.target, op: c.op, value: c.value } as TxnCompare;
}

function canonicalOp(op: TxnOp): TxnOp {
  if (op.type === "put")
    return { type: op.type, key: op.key, value: op.value, contentType: op.contentType };
  return { type: op.type, key: op.key };
}

/** A keyed txn's answer (txnForget), its entries' fields in KvEntry's order. */
function canonicalAnswer(a: TxnKeyedAnswer): TxnKeyedAnswer {
  return {
    parts: a.parts.map((p) => ({
      namespaces: [...p.namespaces],
      results: p.results.map(canonicalResult),
      revision: p.revision,
    })),
  };
}

function canonicalResult(r: TxnOpResult): TxnOpResult {
  if (r.type === "put") return { type: r.type, change: r.change, entry: canonicalEntry(r.entry) };
  if (r.type === "delete")
    return { type: r.type, deleted: r.deleted === null ? null : canonicalEntry(r.deleted) };
  if (r.entry === null) return { type: r.type, entry: null, value: null };
  return { type: r.type, entry: canonicalEntry(r.entry), value: r.value };
}

function canonicalEntry(e: KvEntry): KvEntry {
  const { key, contentType, size, version, createRevision, modRevision, updatedAtMs } = e;
  return { key, contentType, size, version, createRevision, modRevision, updatedAtMs };
}
