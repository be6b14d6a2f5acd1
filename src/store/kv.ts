// Single-key writes: PUT and DELETE with their HTTP preconditions (If-Match, If-None-Match: *).
import { addPutDelta, checkQuota, emptyDelta } from "./quota.ts";
import { namespaceOf } from "./keys.ts";
import type { StoreState } from "./state.ts";
import { liveEntry } from "./state.ts";
import type { DeleteCommand, PutCommand, WriteOutcome } from "./types.ts";
import { checkKey, checkRevisionNumber, checkValue, invalid } from "./validate.ts";
import { deleteKey, putKey } from "./writes.ts";
import { checkFence } from "./locks.ts";
import { checkSchemas } from "./schemas.ts";
import { blockingIntent } from "./intents.ts";

export function applyPut(state: StoreState, c: PutCommand): WriteOutcome {
  const bad =
    checkKey(state, c.key) ??
    checkValue(state, c.value, c.contentType) ??
    checkPutPreconditions(state, c) ??
    checkLease(state, c) ??
    checkFence(state, c.fence, namespaceOf(c.key)) ??
    blockingIntent(state, [], [c.key]);
  if (bad !== null) return bad;
  const current = liveEntry(state, c.key);
  const matches =
    c.ifMatch !== undefined
      ? current?.modRevision === c.ifMatch
      : c.ifNoneMatch === "*"
        ? current === null
        : true;
  if (!matches) return { type: "preconditionFailed", revision: state.revision, current };
  const refused = checkSchemas(state, [c], c.schemasVouched);
  if (refused !== null) return refused;
  const delta = emptyDelta(namespaceOf(c.key));
  addPutDelta(state, delta, c.key, c.value.length);
  const tooLarge = checkQuota(state, delta);
  if (tooLarge !== null) return tooLarge;
  state.revision += 1;
  const { change, entry } = putKey(state, {
    key: c.key,
    value: c.value,
    contentType: c.contentType,
    revision: state.revision,
    atMs: c.atMs,
    ...(c.lease === undefined ? {} : { lease: c.lease }),
  });
  return { type: "ok", revision: state.revision, change, entry };
}

function checkLease(state: StoreState, c: PutCommand) {
  if (c.lease === undefined) return null;
  const lease = state.leases.get(c.lease);
  if (lease === undefined)
    return invalid(state, "lease", `lease ${c.lease} has expired or never was`);
  if (lease.namespace === namespaceOf(c.key)) return null;
  return invalid(
    state,
    "crossNamespace",
    `key ${c.key} cannot be attached to lease ${c.lease} of namespace ${lease.namespace}`,
  );
}

function checkPutPreconditions(state: StoreState, c: PutCommand) {
  if (c.ifMatch !== undefined && c.ifNoneMatch !== undefined) {
    return invalid(
      state,
      "preconditions",
      "If-Match and If-None-Match cannot be combined on one write",
    );
  }
  return c.ifMatch === undefined ? null : checkRevisionNumber(state, "ifMatch", c.ifMatch);
}

export function applyDelete(state: StoreState, c: DeleteCommand): WriteOutcome {
  const bad =
    checkKey(state, c.key) ??
    (c.ifMatch === undefined ? null : checkRevisionNumber(state, "ifMatch", c.ifMatch)) ??
    checkFence(state, c.fence, namespaceOf(c.key)) ??
    blockingIntent(state, [], [c.key]);
  if (bad !== null) return bad;
  const current = liveEntry(state, c.key);
  if (c.ifMatch !== undefined && current?.modRevision !== c.ifMatch) {
    return { type: "preconditionFailed", revision: state.revision, current };
  }
  if (current === null) return { type: "notFound", revision: state.revision };
  // No quota check: a delete only frees space.
  state.revision += 1;
  const entry = deleteKey(state, c.key, state.revision, c.atMs);
  return { type: "ok", revision: state.revision, change: "deleted", entry };
}
