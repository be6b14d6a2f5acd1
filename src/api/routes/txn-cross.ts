// POST /v1/txn across namespaces (http-api.md "Transactions across namespaces"): the request
// side of src/router/txn-coordinator.ts. Every namespace is authorized for write; the answer
// carries `revisions: {namespace: revision}` and a multi-shard X-Edgecfg-Revision token.
//
// Idempotency-Key: the (caller-scoped) key rides on the record namespace's prepare, whose shard
// keeps it among its idempotency records (src/store/txn-keyed.ts, the single-shard bounds): a
// retry, however late, is answered the first outcome (Idempotent-Replayed) and applies nothing;
// one while the first is in flight meets its intent (409, Retry-After).
import {
  partsOf,
  runCrossShardTxn,
  systemIo,
  type CoordinatorIo,
  type CrossShardAnswer,
  type Router,
} from "../../router/index.ts";
import type { TxnCommand, WriteOutcome } from "../../store/index.ts";
import { outcomeProblem } from "../outcomes.ts";
import { ApiProblem, problemTypes } from "../problem.ts";

/** Runs `cmd` (keys in several namespaces) across their shards; throws the problem on refusal. */
export async function crossShardTxn(
  router: Router,
  cmd: TxnCommand,
  defer?: (work: Promise<unknown>) => void,
): Promise<Extract<CrossShardAnswer, { type: "committed" }>> {
  const parts = await partsOf(router, cmd);
  const io: CoordinatorIo = { ...systemIo, ...(defer === undefined ? {} : { defer }) };
  const answer = await runCrossShardTxn(
    router,
    {
      compare: cmd.compare,
      success: cmd.success,
      failure: cmd.failure,
      ...(cmd.audit === undefined ? {} : { audit: cmd.audit }),
      ...(cmd.fence === undefined ? {} : { fence: cmd.fence }),
      ...(cmd.idempotencyKey === undefined ? {} : { idempotencyKey: cmd.idempotencyKey }),
    },
    parts,
    io,
  );
  if (answer.type === "committed") return answer;
  throw refusal(answer.outcome);
}

function refusal(o: WriteOutcome): Error {
  if (o.type === "txnPrepareRefused") {
    return new ApiProblem({
      status: 409,
      type: problemTypes.conflict,
      detail:
        o.reason === "resolved"
          ? "this Idempotency-Key's transaction already ended and its results are no longer " +
            "kept; this request wrote nothing (use a new key to run it again)"
          : "the transaction reached a shard after its deadline; nothing was written: retry",
      extensions: { retryAfter: 1 },
      headers: { "Retry-After": "1" },
    });
  }
  return outcomeProblem(o) ?? new Error(`unexpected prepare outcome ${o.type}`);
}
