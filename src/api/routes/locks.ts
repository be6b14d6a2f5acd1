// /v1/locks/{namespace}/{name}: locks held by leases, with fencing tokens; waiters first come
// first served. A wait is a long poll: the acquire queues the lease, waitForChange on its
// lockTurnKey wakes when the lock is handed to it (only it: not the whole queue), and a wait that
// ends first withdraws from the queue (whose answer says if the lock was handed over meanwhile:
// then it is ours after all).
import { z } from "@hono/zod-openapi";
import type { LockOutcome, LockState, WriteOutcome } from "../../store/index.ts";
import { lockTurnKey } from "../../store/index.ts";
import { authorize } from "../auth.ts";
import { fencingTokenHeader, leaseNamespace, parseToken } from "../coordination.ts";
import { revisionHeader } from "../consistency.ts";
import type { Ctx } from "../context.ts";
import { boundedHeader } from "../headers.ts";
import { apiLimits } from "../limits.ts";
import { fenced, outcomeProblem } from "../outcomes.ts";
import { ApiProblem, badRequest, notFound, problemTypes } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { headers, KeyParams, problems, stateHeaders } from "../schemas.ts";
import { keyFromPath, namespaceOf } from "../keys.ts";

const Held = z
  .object({
    lock: z.string().openapi({ example: "app/migrations" }),
    lease: z.string(),
    fencingToken: z
      .number()
      .int()
      .openapi({ description: "Strictly increases with every acquisition of this lock" }),
  })
  .openapi("LockHeld");

const AcquireRequest = z
  .object({
    lease: z.string().openapi({ example: "app~17" }),
    wait: z
      .number()
      .min(0)
      .max(apiLimits.waitMsMax / 1000)
      .optional()
      .openapi({ description: "Seconds to wait in line (default 0: answer 409 at once)" }),
  })
  .strict()
  .openapi("LockAcquireRequest");

/** "{namespace}/{name}" of the path, named as a key is; the caller's scope checked. */
async function lockOf(c: Ctx, op: "read" | "write"): Promise<[string, string]> {
  const lock = keyFromPath(c.req.url, "/v1/locks/");
  const namespace = namespaceOf(lock);
  await authorize(c, namespace, op);
  return [namespace, lock];
}

const heldJson = (s: LockState) => ({
  lock: s.lock,
  lease: s.holder!.lease,
  fencingToken: s.holder!.fencingToken,
});

function busy(lock: string, waitMs: number): ApiProblem {
  return new ApiProblem({
    status: 409,
    type: problemTypes.conflict,
    detail:
      `lock ${lock} is held by another lease` +
      (waitMs > 0 ? ` (still, after waiting ${waitMs} ms)` : ""),
    extensions: { retryAfter: 1 },
  });
}

function lockOutcome(o: WriteOutcome): LockOutcome {
  if (o.type === "lock") return o;
  throw outcomeProblem(o) ?? new Error(`unexpected outcome ${o.type}`);
}

/**
 * Waits in line until the lock is ours or the deadline; then withdraws. The acquire's own answer
 * (`queued`) starts the wait: no read before it, one after each turn.
 */
async function waitInLine(
  c: Ctx,
  namespace: string,
  [lock, lease]: [string, string],
  until: number,
  queued: LockOutcome,
) {
  const router = c.get("router");
  let [state, afterRevision] = [queued.state, queued.revision];
  for (;;) {
    if (!state.waiters.includes(lease)) break; // our lease ended meanwhile
    const timeoutMs = until - Date.now();
    if (timeoutMs <= 0) break;
    const key = lockTurnKey(lock, lease);
    await router.waitForChange(namespace, { key, afterRevision, timeoutMs, atLeader: true });
    const read = await router.read(
      namespace,
      { type: "lock", lock },
      { consistency: "linearizable" },
    );
    if (read.result.lock.holder?.lease === lease)
      return { state: read.result.lock, token: read.token };
    [state, afterRevision] = [read.result.lock, read.result.revision];
  }
  const { outcome, token } = await router.write(namespace, {
    type: "lockWithdraw",
    atMs: Date.now(),
    lock,
    lease,
  });
  const withdrawn = lockOutcome(outcome);
  return withdrawn.held ? { state: withdrawn.state, token } : null;
}

export const lockAcquire = defineRoute({
  method: "post",
  path: "/v1/locks/{namespace}/{name}",
  honoPath: "/v1/locks/:key{.+}",
  operationId: "acquireLock",
  tags: ["coordination"],
  summary: "Acquire a lock",
  description:
    "For a lease of the namespace. 200 with a fencing token once acquired (first come first " +
    "served among waiters); 409 with retryAfter when the wait ends first. Send the token as " +
    "X-Edgecfg-Fence on the writes the lock guards.",
  params: KeyParams,
  query: z.object({}).strict(),
  body: AcquireRequest,
  responses: {
    200: {
      description: "Acquired",
      content: { "application/json": { schema: Held } },
      headers: headers(...stateHeaders),
    },
    ...problems(409, 422, 507),
  },
  handler: async (c, { body }) => {
    const [namespace, lock] = await lockOf(c, "write");
    if (leaseNamespace(body.lease) !== namespace) {
      throw badRequest(`lease ${body.lease} is not a lease of namespace ${namespace}`);
    }
    const waitMs = Math.round((body.wait ?? 0) * 1000);
    const until = Date.now() + waitMs;
    const { outcome, token } = await c.get("router").write(namespace, {
      type: "lockAcquire",
      atMs: Date.now(),
      lock,
      lease: body.lease,
      wait: waitMs > 0,
    });
    const first = lockOutcome(outcome);
    if (first.held) return c.json(heldJson(first.state), 200, { [revisionHeader]: token });
    if (waitMs === 0) throw busy(lock, 0);
    const got = await waitInLine(c, namespace, [lock, body.lease], until, first);
    if (got === null) throw busy(lock, waitMs);
    return c.json(heldJson(got.state), 200, { [revisionHeader]: got.token });
  },
});

export const lockGet = defineRoute({
  method: "get",
  path: "/v1/locks/{namespace}/{name}",
  honoPath: "/v1/locks/:key{.+}",
  operationId: "getLock",
  tags: ["coordination"],
  summary: "Who holds a lock",
  params: KeyParams,
  query: z.object({}).strict(),
  responses: {
    200: {
      description: "Held",
      content: {
        "application/json": {
          schema: Held.extend({ acquiredAt: z.string().openapi({ format: "date-time" }) }),
        },
      },
      headers: headers(...stateHeaders),
    },
    ...problems(404),
  },
  handler: async (c) => {
    const [namespace, lock] = await lockOf(c, "read");
    const read = await c
      .get("router")
      .read(namespace, { type: "lock", lock }, { consistency: "linearizable" });
    const s = read.result.lock;
    if (s.holder === null) throw notFound(`lock ${lock} is free`);
    const acquiredAt = new Date(s.holder.acquiredAtMs).toISOString();
    return c.json({ ...heldJson(s), acquiredAt }, 200, { [revisionHeader]: read.token });
  },
});

export const lockRelease = defineRoute({
  method: "delete",
  path: "/v1/locks/{namespace}/{name}",
  honoPath: "/v1/locks/:key{.+}",
  operationId: "releaseLock",
  tags: ["coordination"],
  summary: "Release a lock",
  description: `With ${fencingTokenHeader}: 204; 412 (/fenced) when that token does not hold it.`,
  params: KeyParams,
  query: z.object({}).strict(),
  headers: z.object({ "x-edgecfg-fencing-token": z.string() }),
  responses: {
    204: { description: "Released", headers: headers(...stateHeaders) },
    ...problems(412, 431),
  },
  handler: async (c) => {
    const [namespace, lock] = await lockOf(c, "write");
    const raw = boundedHeader(c, fencingTokenHeader);
    if (raw === undefined) throw badRequest(`send ${fencingTokenHeader}: the token you hold`);
    const fencingToken = parseToken(raw.trim(), fencingTokenHeader);
    const { outcome, token } = await c
      .get("router")
      .write(namespace, { type: "lockRelease", atMs: Date.now(), lock, fencingToken });
    if (outcome.type !== "lockRelease")
      throw outcomeProblem(outcome) ?? new Error(`unexpected outcome ${outcome.type}`);
    if (!outcome.released) {
      const holderToken = outcome.state.holder?.fencingToken ?? null;
      const fence = { lock, token: fencingToken };
      throw fenced({ type: "fenced", revision: outcome.revision, fence, holderToken });
    }
    return c.body(null, 204, { [revisionHeader]: token });
  },
});
