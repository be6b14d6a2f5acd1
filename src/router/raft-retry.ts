// Bounded retries while a shard elects a leader: a handful of attempts with exponential backoff,
// within a total time budget; then the API answers 503 with Retry-After. Which replica each
// attempt goes to is decided by `Targets`: a fresh leader hint first, then every other member once,
// round after round.
import type { NodeId } from "../raft/index.ts";

export const raftRouterLimits = {
  /** Attempts of one request across the replicas of its shard. */
  attemptsMax: 8,
  /** Time one request may spend retrying (an election with 50 ms ticks takes ~0.5–1 s). */
  retryBudgetMs: 2_000,
  backoffFirstMs: 25,
  backoffMaxMs: 400,
  /**
   * Longest wait for a long poll beyond its own timeout, and for a status call. Proposals and
   * reads set no timer here (one per request showed as ~3 % of a read's CPU in the profile): the
   * replica bounds every wait it makes (election, proposal, read index, minimum revision;
   * src/replica/config.ts), and a replica that cannot answer at all fails the call.
   */
  rpcTimeoutMs: 8_000,
  /** Retry-After of a 503 from the Raft backend. */
  retryAfterMs: 1_000,
  /** How long a stale read waits on a lagging replica for the caller's minimum revision. */
  staleMinRevisionWaitMs: 250,
  /**
   * How long a write waits out its namespace's move (from the fence to the target's activation:
   * one small copy pass and three log entries, well under the 500 ms the issue targets) before
   * the caller gets the 503; and the pause between two tries.
   */
  moveWaitMsMax: 2_000,
  movePollMs: 50,
  /** Redirects one request follows (a namespace moved twice while it was in flight). */
  moveHopsMax: 4,
} as const;

export class Attempts {
  #made = 0;
  #backoffMs: number = raftRouterLimits.backoffFirstMs;
  readonly #deadlineMs = Date.now() + raftRouterLimits.retryBudgetMs;

  /** Whether another attempt may be made; after a failure that is not a redirect, waits first. */
  async next(backoff: boolean): Promise<boolean> {
    if (this.#made >= raftRouterLimits.attemptsMax) return false;
    if (this.#made > 0 && backoff) {
      const waitMs = Math.min(this.#backoffMs, this.#deadlineMs - Date.now());
      if (waitMs <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      this.#backoffMs = Math.min(this.#backoffMs * 2, raftRouterLimits.backoffMaxMs);
    }
    if (this.#made > 0 && Date.now() >= this.#deadlineMs) return false;
    this.#made++;
    return true;
  }

  get made(): number {
    return this.#made;
  }
}

/**
 * The replica each attempt goes to. The order is computed only if the first choice does not
 * answer: nearly every request goes to the hinted leader once and is done.
 */
export class Targets {
  #tried: NodeId[] = [];
  #redirect: NodeId | null = null;
  #order: NodeId[] | null = null;

  /** `first`: the replica to try first when known (the hinted leader), else the order's first. */
  constructor(
    private readonly orderOf: () => NodeId[],
    private readonly first?: NodeId,
  ) {}

  get #ordered(): NodeId[] {
    return (this.#order ??= this.orderOf());
  }

  /** A member named the leader: go there next, unless it just failed us. */
  redirect(to: NodeId | null): boolean {
    if (to === null || this.#tried.includes(to) || !this.#ordered.includes(to)) return false;
    this.#redirect = to;
    return true;
  }

  /** The next replica to try: a redirect, else the first untried one, else a new round. */
  next(): NodeId {
    const redirect = this.#redirect;
    this.#redirect = null;
    let target =
      redirect ??
      (this.#tried.length === 0 ? this.first : undefined) ??
      this.#ordered.find((id) => !this.#tried.includes(id));
    if (target === undefined) {
      this.#tried = [];
      target = this.#ordered[0]!;
    }
    this.#tried.push(target);
    return target;
  }
}

/** Resolves with `promise`, or rejects with a timeout error naming `what`. */
export function timed<T>(promise: Promise<T>, what: string, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function isOverloaded(error: unknown): boolean {
  return (error as { overloaded?: unknown } | null)?.overloaded === true;
}

/** What one attempt's answer means to the retry loop: done, or why and how to try again. */
export type Verdict<T> =
  | { type: "done"; value: T }
  | {
      type: "retry";
      problem: string;
      /** A member named the leader (null: it knows none): go there next, without a backoff. */
      leaderHint?: NodeId | null;
      /** The target cannot be the leader: forget the isolate's hint when it named it. */
      forgetLeader?: boolean;
    };

export interface RetryScope {
  targets: Targets;
  /** Forgets the isolate's leader hint when it names `target`. */
  forgetLeader(target: NodeId): void;
  /** The error for a replica that said it is overloaded: never retried (it would make it worse). */
  overloaded(target: NodeId): Error;
  /** The error once attempts or the time budget are used up, given the last problem. */
  unavailable(problem: string): Error;
}

/**
 * The retry loop of every router call: the next target, the call, and the caller's classifier of
 * the answer. A call that fails (throws) makes the loop forget that leader and back off; an
 * overloaded replica ends it at once. `classify` may throw to end the loop with a final error.
 */
export async function retryAcross<A, T>(
  scope: RetryScope,
  call: (target: NodeId) => Promise<A>,
  classify: (answer: A, target: NodeId) => Verdict<T>,
): Promise<T> {
  const attempts = new Attempts();
  let backoff = false;
  let problem = "no replica answered";
  while (await attempts.next(backoff)) {
    const target = scope.targets.next();
    let answer: A;
    try {
      answer = await call(target);
    } catch (error) {
      if (isOverloaded(error)) throw scope.overloaded(target);
      scope.forgetLeader(target);
      problem = `${target} failed: ${String(error)}`;
      backoff = true;
      continue;
    }
    const verdict = classify(answer, target);
    if (verdict.type === "done") return verdict.value;
    if (verdict.forgetLeader === true) scope.forgetLeader(target);
    problem = verdict.problem;
    backoff = verdict.leaderHint === undefined || !scope.targets.redirect(verdict.leaderHint);
  }
  throw scope.unavailable(problem);
}
