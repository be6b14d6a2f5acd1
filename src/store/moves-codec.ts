// The canonical form of a namespace image (moves-export.ts) inside a namespaceImport command:
// fields in a fixed order and optional ones only when set, as codec.ts does for every command.
// Idempotency outcomes travel as the state built them (the same on every replica).
import type * as t from "./types.ts";

export function isMoveCommand(c: t.Command): c is t.MoveCommand {
  const moves: string[] = [
    "namespaceImport",
    "namespaceFence",
    "namespaceDrop",
    "namespaceActivate",
    "ringFence",
  ];
  return moves.includes(c.type);
}

export function canonicalMove(
  c: t.MoveCommand,
  base: { atMs: number; idempotencyKey?: string; audit?: t.CommandAudit },
): t.MoveCommand {
  switch (c.type) {
    case "namespaceImport":
      return { type: c.type, ...base, image: canonicalImage(c.image) };
    case "namespaceFence": {
      const { namespace, epoch, shard } = c;
      const flipped = c.flipped === true ? { flipped: c.flipped } : {};
      return { type: c.type, ...base, namespace, epoch, shard, ...flipped };
    }
    case "namespaceActivate":
      return { type: c.type, ...base, namespace: c.namespace, atRevision: c.atRevision };
    case "namespaceDrop":
      return { type: c.type, ...base, namespace: c.namespace };
    case "ringFence":
      return { type: c.type, ...base, epoch: c.epoch, shardCount: c.shardCount, shard: c.shard };
  }
}

function canonicalImage(i: t.NamespaceImage): t.NamespaceImage {
  return {
    namespace: i.namespace,
    atRevision: i.atRevision,
    sinceRevision: i.sinceRevision,
    keys: i.keys.map((k) => ({
      key: k.key,
      trimmedThroughRevision: k.trimmedThroughRevision,
      versions: k.versions.map(canonicalVersion),
    })),
    cursor: i.cursor,
    ...(i.meta === undefined ? {} : { meta: canonicalMeta(i.meta) }),
  };
}

function canonicalAudit(a: t.CommandAudit): t.CommandAudit {
  return {
    ...(a.actor === undefined
      ? {}
      : {
          actor: {
            kind: a.actor.kind,
            ...(a.actor.id === undefined ? {} : { id: a.actor.id }),
            ...(a.actor.name === undefined ? {} : { name: a.actor.name }),
          },
        }),
    ...(a.reason === undefined ? {} : { reason: a.reason }),
    ...(a.requestId === undefined ? {} : { requestId: a.requestId }),
  };
}

function canonicalVersion(v: t.VersionImage): t.VersionImage {
  const a = v.audit;
  return {
    version: v.version,
    createRevision: v.createRevision,
    modRevision: v.modRevision,
    updatedAtMs: v.updatedAtMs,
    contentType: v.contentType,
    value: v.value,
    deleted: v.deleted,
    ...(a === undefined
      ? {}
      : {
          audit: { atMs: a.atMs, op: a.op, keys: [...a.keys], ...canonicalAudit(a) },
        }),
  };
}

function canonicalMeta(m: t.NamespaceMetaImage): t.NamespaceMetaImage {
  return {
    lastModRevision: m.lastModRevision,
    forgottenThroughRevision: m.forgottenThroughRevision,
    idempotency: m.idempotency.map((r) => ({
      idempotencyKey: r.idempotencyKey,
      fingerprint: r.fingerprint,
      outcome: r.outcome,
    })),
    schemas:
      m.schemas === null
        ? null
        : {
            revision: m.schemas.revision,
            rules: m.schemas.rules.map((r) => ({ prefix: r.prefix, schema: r.schema })),
          },
    leases: m.leases.map((l) => ({
      id: l.id,
      ttlMs: l.ttlMs,
      expiresAtMs: l.expiresAtMs,
      keys: [...l.keys],
    })),
    locks: m.locks.map((k) => ({
      lock: k.lock,
      lease: k.lease,
      fencingToken: k.fencingToken,
      acquiredAtMs: k.acquiredAtMs,
      waiters: [...k.waiters],
    })),
    schemaAudits: m.schemaAudits.map((a) => ({
      revision: a.revision,
      atMs: a.atMs,
      op: a.op,
      keys: [...a.keys],
      ...canonicalAudit(a),
    })),
  };
}
