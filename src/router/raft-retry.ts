// Bounded retries while a shard elects a leader: a handful of attempts with exponential backoff,
// within a total time budget; then the API answers 503 with Retry-After. Which replica each
// attempt goes to is decided by `Targets`: a fresh leader hint first, then every other member once,
// round after round.
import type { NodeId } from "../raft/types.ts";

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
