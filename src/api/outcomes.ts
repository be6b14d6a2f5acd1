// Write outcomes of the store that are errors, as problems. Successes are shaped by each route.
import type {
  FencedOutcome,
  IntentOutcome,
  InvalidOutcome,
  KvEntry,
  SchemaViolationOutcome,
  TooLargeOutcome,
  WriteOutcome,
} from "../store/index.ts";
import { entryJson } from "./entry.ts";
import { formatETag } from "./etag.ts";
import { ApiProblem, problemTypes, unavailable } from "./problem.ts";

const invalidStatus: Record<InvalidOutcome["reason"], number> = {
  key: 400,
  namespace: 400,
  idempotencyKey: 400,
  valueTooLarge: 413,
  contentType: 400,
  preconditions: 400,
  txnTooLarge: 400,
  txnDuplicateKey: 400,
  crossNamespace: 422,
  idempotencyKeyReused: 422,
  tokenExists: 409,
  token: 400,
  cluster: 422,
  lease: 400,
  lock: 400,
  schema: 400,
  audit: 400,
  txn: 400,
};

export function preconditionFailed(current: KvEntry | null, detailIfAbsent: string): ApiProblem {
  if (current === null) {
    return new ApiProblem({
      status: 412,
      type: problemTypes.preconditionFailed,
      detail: detailIfAbsent,
      extensions: { currentETag: null, entry: null },
    });
  }
  return new ApiProblem({
    status: 412,
    type: problemTypes.preconditionFailed,
    detail: `the key's current ETag is ${formatETag(current.modRevision)}; read it again and retry with that If-Match`,
    extensions: { currentETag: formatETag(current.modRevision), entry: entryJson(current) },
    headers: { ETag: formatETag(current.modRevision) },
  });
}

/** The fence's token no longer holds its lock: a newer holder may have written since. */
export function fenced(o: FencedOutcome): ApiProblem {
  const held = o.holderToken === null ? "is free" : `is held with token ${o.holderToken}`;
  return new ApiProblem({
    status: 412,
    type: problemTypes.fenced,
    detail:
      `fencing token ${o.fence.token} does not hold lock ${o.fence.lock} (it ${held}); ` +
      "nothing was written",
    extensions: { lock: o.fence.lock, fencingToken: o.fence.token, holderToken: o.holderToken },
  });
}

/** 422: a value breaks a schema in force (or, for a schema change, stored values break it). */
export function schemaViolation(o: SchemaViolationOutcome): ApiProblem {
  const first = o.errors[0];
  const where =
    first === undefined
      ? ""
      : `: ${first.key} at ${JSON.stringify(first.pointer)}: ${first.message}`;
  const more = o.keys > 1 ? ` (${o.keys} keys at fault; errors lists the first)` : "";
  return new ApiProblem({
    status: 422,
    type: problemTypes.schemaViolation,
    detail: `a value breaks the namespace's schema${where}${more}; nothing was written`,
    extensions: { errors: o.errors },
  });
}

/**
 * 409: a cross-shard txn holds the key between its prepare and its commit (milliseconds, as a
 * rule); the write changed nothing and a retry a second later finds it resolved.
 */
function intentConflict(o: IntentOutcome): ApiProblem {
  const what = o.intent.write ? "writes" : "reads";
  return new ApiProblem({
    status: 409,
    type: problemTypes.conflict,
    detail:
      `key ${o.intent.key} is held by transaction ${o.intent.txnId}, which ${what} it and ` +
      "is committing now; nothing was written: retry after 1 s",
    extensions: { key: o.intent.key, txnId: o.intent.txnId, retryAfter: 1 },
    headers: { "Retry-After": "1" },
  });
}

function tooLarge(o: TooLargeOutcome): ApiProblem {
  return new ApiProblem({
    status: 507,
    type: problemTypes.insufficientStorage,
    detail: `the write would exceed the shard quota ${o.limit} (${o.max}; it would be ${o.wouldBe}); delete data first`,
    extensions: { limit: o.limit, max: o.max, wouldBe: o.wouldBe },
  });
}

function invalid(o: InvalidOutcome): ApiProblem {
  const status = invalidStatus[o.reason];
  const type =
    status === 413
      ? problemTypes.payloadTooLarge
      : status === 422
        ? problemTypes.unprocessable
        : status === 409
          ? problemTypes.conflict
          : problemTypes.badRequest;
  // The store names the key as it keeps it (scoped to the caller: idempotency.ts); say it plainly.
  const detail =
    o.reason === "idempotencyKeyReused"
      ? "this Idempotency-Key was already used for a different request; use a new key per request"
      : o.detail;
  return new ApiProblem({ status, type, detail, extensions: { reason: o.reason } });
}

/** The problem for an error outcome; null for outcomes the route handles itself. */
export function outcomeProblem(
  o: WriteOutcome,
  absentDetail = "the key does not exist",
): ApiProblem | null {
  switch (o.type) {
    case "preconditionFailed":
      return preconditionFailed(o.current, absentDetail);
    case "tooLarge":
      return tooLarge(o);
    case "invalid":
      return invalid(o);
    case "notFound":
      return new ApiProblem({ status: 404, type: problemTypes.notFound, detail: absentDetail });
    case "fenced":
      return fenced(o);
    case "schemaViolation":
      return schemaViolation(o);
    case "namespaceChanged":
      return new ApiProblem({
        status: 412,
        type: problemTypes.preconditionFailed,
        detail:
          `namespace ${o.namespace} is at revision ${o.namespaceRevision} now, not ifRevision: ` +
          "it changed since it was read; review the change again (a new plan) and retry",
        extensions: {
          currentETag: formatETag(o.namespaceRevision),
          entry: null,
          namespaceRevision: o.namespaceRevision,
        },
        headers: { ETag: formatETag(o.namespaceRevision) },
      });
    case "compacted":
      return new ApiProblem({ status: 410, type: problemTypes.gone, detail: o.detail });
    case "intent":
      return intentConflict(o);
    case "moved":
      // The namespace is moving to another shard (a reshard): its writes pause while the last
      // changes are copied; retrying after the ring flips reaches the new shard.
      return unavailable(
        `namespace ${o.namespace} is moving to shard ${o.shard} (ring epoch ${o.epoch}); ` +
          "nothing was written: retry shortly",
        1000,
      );
    case "moving":
      return unavailable(
        `namespace ${o.namespace} is moving to this shard (a reshard); ` +
          "nothing was written: retry shortly",
        1000,
      );
    default:
      return null;
  }
}
