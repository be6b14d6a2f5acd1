// fast-check generators of commands: `anyCommand` for the codec (any strings, even invalid ones,
// must round-trip) and `smallWorldCommand` for model tests (a few keys, so writes collide,
// preconditions sometimes match, history trims and quotas bite).
import fc from "fast-check";
import type {
  AuditActor,
  Command,
  CommandAudit,
  TxnCompare,
  TxnOp,
} from "../../src/store/types.ts";

const anyString = fc.string({ unit: "binary", maxLength: 12 });
const anyBytes = fc.uint8Array({ maxLength: 32 });
const compareOp = fc.constantFrom("=", "!=", "<", ">") as fc.Arbitrary<"=" | "!=" | "<" | ">">;
const eqOp = fc.constantFrom("=", "!=") as fc.Arbitrary<"=" | "!=">;

function compareOf(
  key: fc.Arbitrary<string>,
  value: fc.Arbitrary<Uint8Array>,
  n: fc.Arbitrary<number>,
): fc.Arbitrary<TxnCompare> {
  return fc.oneof(
    fc.record({ key, target: fc.constant("modRevision" as const), op: compareOp, value: n }),
    fc.record({ key, target: fc.constant("version" as const), op: compareOp, value: n }),
    fc.record({ key, target: fc.constant("exists" as const), op: eqOp, value: fc.boolean() }),
    fc.record({ key, target: fc.constant("value" as const), op: eqOp, value }),
  );
}

function opOf(key: fc.Arbitrary<string>, value: fc.Arbitrary<Uint8Array>): fc.Arbitrary<TxnOp> {
  return fc.oneof(
    fc.record({
      type: fc.constant("put" as const),
      key,
      value,
      contentType: fc.constantFrom("text/plain", "application/json"),
    }),
    fc.record({ type: fc.constant("delete" as const), key }),
    fc.record({ type: fc.constant("get" as const), key }),
  );
}

function commandOf(opts: {
  key: fc.Arbitrary<string>;
  value: fc.Arbitrary<Uint8Array>;
  n: fc.Arbitrary<number>;
  idempotencyKey: fc.Arbitrary<string>;
  namespace: fc.Arbitrary<string>;
  tokenId: fc.Arbitrary<string>;
  hashHex: fc.Arbitrary<string>;
}): fc.Arbitrary<Omit<Command, "atMs">> {
  const base = { idempotencyKey: opts.idempotencyKey };
  const required = <K extends string>(...keys: K[]) => ({ requiredKeys: keys });
  return fc.oneof(
    fc.record(
      {
        type: fc.constant("put" as const),
        ...base,
        key: opts.key,
        value: opts.value,
        contentType: fc.constantFrom("text/plain", "application/json", "x/y"),
        ifMatch: opts.n,
        ifNoneMatch: fc.constant("*" as const),
      },
      required("type", "key", "value", "contentType"),
    ),
    fc.record(
      { type: fc.constant("delete" as const), ...base, key: opts.key, ifMatch: opts.n },
      required("type", "key"),
    ),
    fc.record(
      {
        type: fc.constant("txn" as const),
        ...base,
        compare: fc.array(compareOf(opts.key, opts.value, opts.n), { maxLength: 3 }),
        success: fc.array(opOf(opts.key, opts.value), { maxLength: 4 }),
        failure: fc.array(opOf(opts.key, opts.value), { maxLength: 3 }),
      },
      required("type", "compare", "success", "failure"),
    ),
    fc.record(
      {
        type: fc.constant("tokenCreate" as const),
        ...base,
        id: opts.tokenId,
        hashHex: opts.hashHex,
        scopes: fc.array(
          fc.record({
            namespaces: fc.array(opts.namespace, { minLength: 1, maxLength: 2 }),
            ops: fc.subarray(["read", "write", "admin"] as const, { minLength: 1 }),
          }),
          { minLength: 1, maxLength: 2 },
        ),
        expiresAtMs: opts.n,
        createdAtMs: opts.n,
      },
      required("type", "id", "hashHex", "scopes", "createdAtMs"),
    ),
    fc.record(
      { type: fc.constant("tokenRevoke" as const), ...base, id: opts.tokenId },
      required("type", "id"),
    ),
    fc.record(
      {
        type: fc.constant("namespaceSet" as const),
        ...base,
        namespace: opts.namespace,
        publicRead: fc.boolean(),
      },
      required("type", "namespace", "publicRead"),
    ),
    fc.record(
      {
        type: fc.constant("schemaSet" as const),
        ...base,
        namespace: opts.namespace,
        schemas: fc.array(fc.record({ prefix: opts.namespace, schema: opts.namespace })),
        force: fc.constant(true as const),
      },
      required("type", "namespace", "schemas"),
    ),
    anyCoordinationCommand(opts.tokenId, opts.key, opts.n),
    anyNamespaceWrite(opts.namespace, opts.value, opts.n),
    anyTxnProtocolCommand(opts.tokenId, opts.key, opts.value, opts.n),
    fc.record(
      {
        type: fc.constant("put" as const),
        key: opts.key,
        value: opts.value,
        contentType: fc.constant("x/y"),
        lease: opts.tokenId,
        fence: fc.record({ lock: opts.key, token: opts.n }),
      },
      required("type", "key", "value", "contentType"),
    ),
  ) as fc.Arbitrary<Omit<Command, "atMs">>;
}

function anyTxnProtocolCommand(
  id: fc.Arbitrary<string>,
  key: fc.Arbitrary<string>,
  value: fc.Arbitrary<Uint8Array>,
  n: fc.Arbitrary<number>,
): fc.Arbitrary<Omit<Command, "atMs">> {
  const decision = fc.constantFrom("commit" as const, "abort" as const);
  const branch = fc.constantFrom("success" as const, "failure" as const);
  return fc.oneof(
    fc.record(
      {
        type: fc.constant("txnPrepare" as const),
        txnId: id,
        compare: fc.array(compareOf(key, value, n), { maxLength: 2 }),
        success: fc.array(opOf(key, value), { maxLength: 2 }),
        failure: fc.array(opOf(key, value), { maxLength: 2 }),
        recordNamespace: id,
        participants: fc.array(id, { maxLength: 2 }),
        deadlineMs: n,
        fence: fc.record({ lock: key, token: n }),
        staging: fc.constant(true as const),
        forgets: fc.array(id, { minLength: 1, maxLength: 2 }),
      },
      {
        requiredKeys: [
          "type",
          "txnId",
          "compare",
          "success",
          "failure",
          "recordNamespace",
          "participants",
          "deadlineMs",
        ],
      },
    ),
    fc.record(
      { type: fc.constant("txnResolve" as const), txnId: id, decision, branch, deadlineMs: n },
      { requiredKeys: ["type", "txnId", "decision", "deadlineMs"] },
    ),
    fc.record(
      {
        type: fc.constant("txnRecordDecide" as const),
        txnId: id,
        decision,
        branch,
        deadlineMs: n,
        by: fc.constantFrom("coordinator" as const, "recovery" as const),
        recordNamespace: id,
        participants: fc.array(id, { minLength: 1, maxLength: 3 }),
      },
      {
        requiredKeys: [
          "type",
          "txnId",
          "decision",
          "deadlineMs",
          "by",
          "recordNamespace",
          "participants",
        ],
      },
    ),
    fc.record({ type: fc.constant("txnRecordForget" as const), txnId: id }),
    fc.record({ type: fc.constant("txnProbe" as const), txnId: id, deadlineMs: n }),
    fc.record(
      {
        type: fc.constant("txnRecordSettle" as const),
        txnId: id,
        decision,
        branch,
        deadlineMs: n,
        by: fc.constantFrom("coordinator" as const, "recovery" as const),
        recordNamespace: id,
        participants: fc.array(id, { minLength: 1, maxLength: 3 }),
      },
      {
        requiredKeys: [
          "type",
          "txnId",
          "decision",
          "deadlineMs",
          "by",
          "recordNamespace",
          "participants",
        ],
      },
    ),
    fc.record({ type: fc.constant("txnForget" as const), txnId: id }),
    fc.record({
      type: fc.constant("shardTxn" as const),
      compare: fc.array(compareOf(key, value, n), { maxLength: 2 }),
      success: fc.array(opOf(key, value), { maxLength: 2 }),
      failure: fc.array(opOf(key, value), { maxLength: 2 }),
    }),
  );
}

const anyAudit = fc.record(
  {
    actor: fc.record(
      { kind: fc.constantFrom("admin" as const, "token" as const), id: anyString, name: anyString },
      { requiredKeys: ["kind"] },
    ),
    reason: anyString,
    requestId: anyString,
  },
  { requiredKeys: [] },
);

function anyNamespaceWrite(
  namespace: fc.Arbitrary<string>,
  value: fc.Arbitrary<Uint8Array>,
  n: fc.Arbitrary<number>,
): fc.Arbitrary<Omit<Command, "atMs">> {
  const entry = fc.record({ name: anyString, value, contentType: anyString });
  return fc.oneof(
    fc.record(
      {
        type: fc.constant("namespaceApply" as const),
        namespace,
        entries: fc.array(entry, { maxLength: 3 }),
        prune: fc.boolean(),
        ifRevision: n,
        audit: anyAudit,
      },
      { requiredKeys: ["type", "namespace", "entries", "prune"] },
    ),
    fc.record(
      {
        type: fc.constant("namespaceRollback" as const),
        namespace,
        toRevision: n,
        ifRevision: n,
        audit: anyAudit,
      },
      { requiredKeys: ["type", "namespace", "toRevision"] },
    ),
  );
}

function anyCoordinationCommand(
  id: fc.Arbitrary<string>,
  lock: fc.Arbitrary<string>,
  n: fc.Arbitrary<number>,
): fc.Arbitrary<Omit<Command, "atMs">> {
  return fc.oneof(
    fc.record({ type: fc.constant("leaseGrant" as const), namespace: id, ttlMs: n }),
    fc.record({
      type: fc.constantFrom(
        "leaseKeepAlive" as const,
        "leaseRevoke" as const,
        "leaseExpire" as const,
      ),
      id,
    }),
    fc.record({ type: fc.constant("leasesExtend" as const), extendMs: n }),
    fc.record({ type: fc.constant("lockAcquire" as const), lock, lease: id, wait: fc.boolean() }),
    fc.record({ type: fc.constant("lockWithdraw" as const), lock, lease: id }),
    fc.record({ type: fc.constant("lockRelease" as const), lock, fencingToken: n }),
    fc.record(
      { type: fc.constant("delete" as const), key: lock, fence: fc.record({ lock, token: n }) },
      { requiredKeys: ["type", "key", "fence"] },
    ),
  );
}

export const anyCommand: fc.Arbitrary<Command> = fc
  .tuple(
    commandOf({
      key: anyString,
      value: anyBytes,
      n: fc.nat(),
      idempotencyKey: anyString,
      namespace: anyString,
      tokenId: anyString,
      hashHex: anyString,
    }),
    fc.integer({ min: 0, max: 2 ** 50 }),
    fc.option(
      fc.record(
        {
          actor: fc.record(
            {
              kind: fc.constantFrom("admin" as const, "token" as const, "system" as const),
              id: anyString,
              name: anyString,
            },
            { requiredKeys: ["kind"] },
          ),
          reason: anyString,
          requestId: anyString,
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
  )
  .map(
    ([c, atMs, audit]) => ({ ...c, atMs, ...(audit === undefined ? {} : { audit }) }) as Command,
  );

export const smallKeys = ["app/a", "app/b", "app/c/d", "app/c/e", "web/a", "web/z", "bad key"];
export const smallLeases = ["app~1", "app~2", "app~3", "web~1", "web~2", "web~4"];
export const smallLocks = ["app/L", "app/M", "web/L", "bad lock"];
export const smallPrefixes = ["app/", "app/c", "app/c/", "web/", "web/a"];

const smallNames = ["a", "b", "c/d", "c/e"];
const smallValue = fc.uint8Array({ maxLength: 24 });
const smallRevision = fc.nat({ max: 12 });
const maybe = <T>(arb: fc.Arbitrary<T>, weight = 1) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight });

/** Keys of one namespace (so txns are valid), now and then a bad or foreign one. */
function smallKey(namespace: string): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(`${namespace}/a`, `${namespace}/c/d`), weight: 14 },
    { arbitrary: fc.constantFrom(...smallNames.map((n) => `${namespace}/${n}`)), weight: 6 },
    { arbitrary: fc.constantFrom("bad key", "web/a", "app/a"), weight: 1 },
  );
}

function smallKvCommand(namespace: string): fc.Arbitrary<Omit<Command, "atMs" | "idempotencyKey">> {
  const key = smallKey(namespace);
  const preconditions = fc.oneof(
    { arbitrary: fc.constant({}), weight: 4 },
    { arbitrary: smallRevision.map((ifMatch) => ({ ifMatch })), weight: 2 },
    { arbitrary: fc.constant({ ifNoneMatch: "*" as const }), weight: 1 },
  );
  const contentType = fc.constantFrom("text/plain", "application/json");
  return fc.oneof(
    {
      arbitrary: fc.tuple(key, smallValue, contentType, preconditions).map(([k, value, ct, p]) => ({
        type: "put" as const,
        key: k,
        value,
        contentType: ct,
        ...p,
      })),
      weight: 6,
    },
    {
      arbitrary: fc.tuple(key, maybe(smallRevision)).map(([k, ifMatch]) => ({
        type: "delete" as const,
        key: k,
        ...(ifMatch === undefined ? {} : { ifMatch }),
      })),
      weight: 5,
    },
    {
      arbitrary: fc.record({
        type: fc.constant("txn" as const),
        compare: fc.array(compareOf(key, smallValue, smallRevision), { maxLength: 2 }),
        success: fc.array(opOf(key, smallValue), { maxLength: 3 }),
        failure: fc.array(opOf(key, smallValue), { maxLength: 2 }),
      }),
      weight: 3,
    },
  );
}

/** Applies of a few names (sometimes a bad one), with or without prune; rollbacks. */
function smallNamespaceWrite(
  namespace: string,
): fc.Arbitrary<Omit<Command, "atMs" | "idempotencyKey">> {
  const entry = fc.record({
    name: fc.constantFrom(...smallNames, "bad name"),
    value: smallValue,
    contentType: fc.constantFrom("text/plain", "application/json"),
  });
  return fc.oneof(
    fc
      .tuple(fc.uniqueArray(entry, { maxLength: 4, selector: (e) => e.name }), fc.boolean())
      .chain(([entries, prune]) =>
        maybe(smallRevision).map((ifRevision) => ({
          type: "namespaceApply" as const,
          namespace,
          entries,
          prune,
          ...(ifRevision === undefined ? {} : { ifRevision }),
        })),
      ),
    fc.tuple(smallRevision, maybe(smallRevision)).map(([toRevision, ifRevision]) => ({
      type: "namespaceRollback" as const,
      namespace,
      toRevision,
      ...(ifRevision === undefined ? {} : { ifRevision }),
    })),
  );
}

const smallSystemCommand: fc.Arbitrary<Omit<Command, "atMs" | "idempotencyKey">> = fc.oneof(
  fc.record({
    type: fc.constant("tokenCreate" as const),
    id: fc.constantFrom("t1", "t2", "t3"),
    hashHex: fc.constantFrom("a".repeat(64), "b".repeat(64), "c".repeat(64), "bad"),
    scopes: fc.constant([{ namespaces: ["app"], ops: ["read" as const] }]),
    createdAtMs: smallRevision,
  }),
  fc.record({ type: fc.constant("tokenRevoke" as const), id: fc.constantFrom("t1", "t2", "t3") }),
  fc.record({
    type: fc.constant("namespaceSet" as const),
    namespace: fc.constantFrom("app", "web", "_sys"),
    publicRead: fc.boolean(),
  }),
  fc.record(
    {
      type: fc.constant("schemaSet" as const),
      namespace: fc.constantFrom("app", "web"),
      schemas: fc.constantFrom(
        [],
        [{ prefix: "", schema: "true" }],
        [{ prefix: "c/", schema: '{"type":"object"}' }],
        [{ prefix: "a", schema: '{"not":{}}' }],
      ),
      force: fc.constant(true as const),
    },
    { requiredKeys: ["type", "namespace", "schemas"] },
  ),
);

const smallFence = fc.record({ lock: fc.constantFrom(...smallLocks), token: smallRevision });

/** Puts attached to a lease, fenced writes, and the lease and lock commands over a few ids. */
function smallCoordinationCommand(
  namespace: string,
): fc.Arbitrary<Omit<Command, "atMs" | "idempotencyKey">> {
  // Ids are numbered shard-wide and most grants are in "app": "{namespace}~1..6" are the ones
  // likely to be live.
  const ours = [1, 2, 3, 4, 5, 6].map((n) => `${namespace}~${n}`);
  const lease = fc.oneof(
    { arbitrary: fc.constantFrom(...ours), weight: 6 },
    { arbitrary: fc.constantFrom(...smallLeases), weight: 1 },
  );
  const lock = fc.oneof(
    { arbitrary: fc.constantFrom(`${namespace}/L`, `${namespace}/M`), weight: 6 },
    { arbitrary: fc.constantFrom(...smallLocks), weight: 1 },
  );
  return fc.oneof(
    {
      arbitrary: fc.record({
        type: fc.constant("leaseGrant" as const),
        namespace: fc.constantFrom(namespace, namespace, namespace, "Bad"),
        ttlMs: fc.constantFrom(2_000, 3_000, 6_000, 1),
      }),
      weight: 5,
    },
    fc.record({
      type: fc.constantFrom("leaseKeepAlive" as const, "leaseRevoke" as const),
      id: lease,
    }),
    { arbitrary: fc.record({ type: fc.constant("leaseExpire" as const), id: lease }), weight: 2 },
    fc.record({
      type: fc.constant("leasesExtend" as const),
      extendMs: fc.constantFrom(0, 1_000, -1),
    }),
    {
      arbitrary: fc.record({
        type: fc.constant("lockAcquire" as const),
        lock,
        lease,
        wait: fc.boolean(),
      }),
      weight: 5,
    },
    fc.record({ type: fc.constant("lockWithdraw" as const), lock, lease }),
    fc.record({ type: fc.constant("lockRelease" as const), lock, fencingToken: smallRevision }),
    {
      arbitrary: fc.record({
        type: fc.constant("put" as const),
        key: smallKey(namespace),
        value: smallValue,
        contentType: fc.constant("text/plain"),
        lease,
      }),
      weight: 3,
    },
    fc
      .tuple(smallKvCommand(namespace), smallFence)
      .map(([c, fence]) =>
        c.type === "put" || c.type === "delete" || c.type === "txn" ? { ...c, fence } : c,
      ),
  ) as fc.Arbitrary<Omit<Command, "atMs" | "idempotencyKey">>;
}

export const smallTxnIds = ["t1", "t2", "t3"];

/**
 * The protocol of cross-shard txns over a few txn ids and the keys of both namespaces: prepares
 * that conflict, resolves before, after and without their prepare, decisions and forgets, and
 * deadlines a few seconds either side of the clock.
 */
function smallTxnProtocolCommand(): fc.Arbitrary<Omit<Command, "atMs" | "idempotencyKey">> {
  const txnId = fc.constantFrom(...smallTxnIds);
  const deadlineMs = fc.constantFrom(1_002_000, 1_010_000, 1_030_000, 2_000_000);
  const key = fc.oneof(smallKey("app"), smallKey("web"));
  const decision = fc.constantFrom("commit" as const, "abort" as const);
  const branch = fc.constantFrom("success" as const, "failure" as const);
  return fc.oneof(
    {
      arbitrary: fc.record({
        type: fc.constant("txnPrepare" as const),
        txnId,
        compare: fc.array(compareOf(key, smallValue, smallRevision), { maxLength: 2 }),
        success: fc.uniqueArray(opOf(key, smallValue), { maxLength: 2, selector: (o) => o.key }),
        failure: fc.uniqueArray(opOf(key, smallValue), { maxLength: 1, selector: (o) => o.key }),
        recordNamespace: fc.constantFrom("app", "web"),
        participants: fc.constant(["app", "web"]),
        deadlineMs,
      }),
      weight: 4,
    },
    {
      // A parallel commit's prepare: the record namespace's part writes the STAGING record.
      arbitrary: fc.record({
        type: fc.constant("txnPrepare" as const),
        txnId,
        compare: fc.array(compareOf(key, smallValue, smallRevision), { maxLength: 2 }),
        success: fc.uniqueArray(opOf(key, smallValue), { maxLength: 2, selector: (o) => o.key }),
        failure: fc.uniqueArray(opOf(key, smallValue), { maxLength: 1, selector: (o) => o.key }),
        recordNamespace: fc.constantFrom("app", "web"),
        participants: fc.constant(["app", "web"]),
        deadlineMs,
        staging: fc.constant(true as const),
        forgets: fc.subarray(smallTxnIds, { minLength: 0, maxLength: 2 }),
      }),
      weight: 4,
    },
    fc.record({ type: fc.constant("txnProbe" as const), txnId, deadlineMs }),
    fc.record({
      type: fc.constant("txnRecordSettle" as const),
      txnId,
      decision,
      branch,
      deadlineMs,
      by: fc.constantFrom("coordinator" as const, "recovery" as const),
      recordNamespace: fc.constantFrom("app", "web"),
      participants: fc.constant(["app", "web"]),
    }),
    fc.record({ type: fc.constant("txnForget" as const), txnId }),
    {
      arbitrary: fc.record({
        type: fc.constant("txnResolve" as const),
        txnId,
        decision,
        branch,
        deadlineMs,
      }),
      weight: 3,
    },
    fc.record({
      type: fc.constant("txnRecordDecide" as const),
      txnId,
      decision,
      branch,
      deadlineMs,
      by: fc.constantFrom("coordinator" as const, "recovery" as const),
      recordNamespace: fc.constantFrom("app", "web"),
      participants: fc.constant(["app", "web"]),
    }),
    fc.record({ type: fc.constant("txnRecordForget" as const), txnId }),
    {
      arbitrary: fc.record({
        type: fc.constant("shardTxn" as const),
        compare: fc.array(compareOf(key, smallValue, smallRevision), { maxLength: 2 }),
        success: fc.uniqueArray(opOf(key, smallValue), { maxLength: 3, selector: (o) => o.key }),
        failure: fc.uniqueArray(opOf(key, smallValue), { maxLength: 2, selector: (o) => o.key }),
      }),
      weight: 2,
    },
  );
}

/** Audits of a few actors (commands without one are entries from before audit existed). */
const smallAudit: fc.Arbitrary<CommandAudit> = fc.record(
  {
    actor: fc.constantFrom<AuditActor>(
      { kind: "admin" },
      { kind: "token", id: "tok_a", name: "ci" },
      { kind: "token", id: "tok_b" },
    ),
    reason: fc.constantFrom("deploy", "rollback ünïcode"),
    requestId: fc.constantFrom("r1", "r2", "r3"),
  },
  { requiredKeys: [] },
);

/** Commands over a few keys with small values; the caller adds atMs. */
export const smallWorldCommand: fc.Arbitrary<Omit<Command, "atMs">> = fc
  .tuple(
    fc.oneof(
      { arbitrary: fc.constantFrom("app", "web").chain(smallKvCommand), weight: 8 },
      { arbitrary: smallSystemCommand, weight: 1 },
      { arbitrary: fc.constantFrom("app", "web").chain(smallNamespaceWrite), weight: 2 },
      {
        arbitrary: fc.constantFrom("app", "app", "app", "web").chain(smallCoordinationCommand),
        weight: 8,
      },
      { arbitrary: smallTxnProtocolCommand(), weight: 6 },
    ),
    maybe(fc.constantFrom("i1", "i2", "i3", "i4", "i5")),
    maybe(smallAudit),
  )
  .map(
    ([c, idempotencyKey, audit]) =>
      ({
        ...c,
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        ...(audit === undefined ? {} : { audit }),
      }) as Omit<Command, "atMs">,
  );
