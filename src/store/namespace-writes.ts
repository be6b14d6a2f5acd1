// Namespace-wide writes (http-api.md "Safe publishing"): a declarative apply and a rollback to an
// old revision. Both come down to the puts and deletes that make the namespace hold the wanted
// entries, run as one txn (txn.ts): one revision, all or nothing, and every check a txn's writes
// pass at commit (keys, values, quota, and whatever else guards a value there). Keys that already
// hold the wanted value are left alone, so a write that changes nothing consumes no revision and
// an apply can be repeated.
import { versionAt } from "./history.ts";
import { isJsonMediaType, validateNamespace } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import { sortedLiveKeys } from "./list.ts";
import type { StoreState, Version } from "./state.ts";
import { liveVersion } from "./state.ts";
import { applyTxn, bytesEqual } from "./txn.ts";
import type {
  Key,
  NamespaceApplyCommand,
  NamespaceChange,
  NamespaceRollbackCommand,
  NamespaceWriteCommand,
  Revision,
  TxnOp,
  WriteOutcome,
} from "./types.ts";
import { checkRevisionNumber, invalid } from "./validate.ts";

interface Wanted {
  value: Uint8Array;
  contentType: string;
}

export function applyNamespaceApply(state: StoreState, c: NamespaceApplyCommand): WriteOutcome {
  const bad = checkTarget(state, c) ?? checkEntries(state, c);
  if (bad !== null) return bad;
  const wanted = new Map<Key, Wanted>();
  for (const e of c.entries) wanted.set(`${c.namespace}/${e.name}`, e);
  return writeNamespace(state, c, wanted, c.prune);
}

export function applyNamespaceRollback(
  state: StoreState,
  c: NamespaceRollbackCommand,
): WriteOutcome {
  const bad = checkTarget(state, c) ?? checkToRevision(state, c.toRevision);
  if (bad !== null) return bad;
  const wanted = entriesAt(state, c.namespace, c.toRevision);
  if (wanted === null) {
    return {
      type: "compacted",
      revision: state.revision,
      detail:
        `namespace ${c.namespace} at revision ${c.toRevision} is no longer retained ` +
        "(history is trimmed per key and deleted keys are forgotten); " +
        "roll back to a later revision",
    };
  }
  return writeNamespace(state, c, wanted, true);
}

/** The namespace's revision: its last modRevision (the bundle's ETag), 0 when never written. */
function namespaceRevision(state: StoreState, namespace: string): Revision {
  return state.namespaces.get(namespace)?.lastModRevision ?? 0;
}

function checkTarget(state: StoreState, c: NamespaceWriteCommand): WriteOutcome | null {
  const error = validateNamespace(c.namespace);
  if (error !== null) return invalid(state, "namespace", error);
  if (c.ifRevision === undefined) return null;
  const bad = checkRevisionNumber(state, "ifRevision", c.ifRevision);
  if (bad !== null) return bad;
  const current = namespaceRevision(state, c.namespace);
  if (current === c.ifRevision) return null;
  return {
    type: "namespaceChanged",
    revision: state.revision,
    namespace: c.namespace,
    namespaceRevision: current,
  };
}

function checkEntries(state: StoreState, c: NamespaceApplyCommand): WriteOutcome | null {
  if (c.entries.length > storeLimits.applyEntriesMax) {
    return invalid(
      state,
      "txnTooLarge",
      `the apply has ${c.entries.length} entries; ` +
        `at most ${storeLimits.applyEntriesMax} are allowed`,
    );
  }
  const names = new Set<string>();
  for (const e of c.entries) {
    if (names.has(e.name))
      return invalid(state, "txnDuplicateKey", `the apply names ${e.name} more than once`);
    names.add(e.name);
  }
  return null; // keys, values and quota: the txn checks them as it checks its own
}

function checkToRevision(state: StoreState, toRevision: number): WriteOutcome | null {
  if (Number.isSafeInteger(toRevision) && toRevision >= 1 && toRevision <= state.revision)
    return null;
  return invalid(
    state,
    "preconditions",
    `toRevision must be a revision from 1 to the shard's revision ${state.revision}, ` +
      `got ${toRevision}`,
  );
}

/** The live entries of a namespace at `revision`, or null when some of them are not retained. */
function entriesAt(
  state: StoreState,
  namespace: string,
  revision: Revision,
): Map<Key, Wanted> | null {
  const ns = state.namespaces.get(namespace);
  const wanted = new Map<Key, Wanted>();
  if (ns === undefined) return wanted;
  // A key forgotten after its delete at F may have been live at any revision before F.
  if (revision < ns.forgottenThroughRevision) return null;
  for (const key of ns.records.keys()) {
    const at = versionAt(state, key, revision);
    if (at.type === "compacted") return null;
    if (at.type === "version") wanted.set(key, at.version);
  }
  return wanted;
}

function writeNamespace(
  state: StoreState,
  c: NamespaceWriteCommand,
  wanted: Map<Key, Wanted>,
  prune: boolean,
): WriteOutcome {
  const ops: TxnOp[] = [];
  for (const [key, e] of wanted) {
    const live = liveVersion(state, key);
    if (live === null || !sameValue(live, e))
      ops.push({ type: "put", key, value: e.value, contentType: e.contentType });
  }
  if (prune) {
    for (const key of sortedLiveKeys(state.namespaces.get(c.namespace)))
      if (!wanted.has(key)) ops.push({ type: "delete", key });
  }
  ops.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (ops.length === 0) return written(state, c.namespace, []);
  const txn = { type: "txn" as const, atMs: c.atMs, compare: [], success: ops, failure: [] };
  const outcome = applyTxn(state, txn, ops.length);
  if (outcome.type !== "txn") return outcome;
  const changes: NamespaceChange[] = [];
  outcome.results.forEach((r, i) => {
    const key = ops[i]!.key;
    if (r.type === "put") changes.push({ key, change: r.change, entry: r.entry });
    if (r.type === "delete" && r.deleted !== null)
      changes.push({ key, change: "deleted", entry: r.deleted });
  });
  return written(state, c.namespace, changes);
}

function written(state: StoreState, namespace: string, changes: NamespaceChange[]): WriteOutcome {
  return {
    type: "namespaceWrite",
    revision: state.revision,
    namespace,
    namespaceRevision: namespaceRevision(state, namespace),
    changes,
  };
}

/** Same content type and bytes; JSON values also when equal as JSON (whitespace aside). */
function sameValue(live: Version, e: Wanted): boolean {
  if (live.contentType !== e.contentType) return false;
  if (bytesEqual(live.value, e.value)) return true;
  if (!isJsonMediaType(e.contentType)) return false;
  const a = parseJson(live.value);
  return a !== undefined && a === parseJson(e.value);
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The value re-serialized by JSON.stringify (deterministic), or undefined when not JSON. */
function parseJson(bytes: Uint8Array): string | undefined {
  try {
    return JSON.stringify(JSON.parse(decoder.decode(bytes)));
  } catch {
    return undefined;
  }
}
