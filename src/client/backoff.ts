// Retry timing. Jitter spreads out clients that failed together (e.g. all hit the same CAS
// conflict, or all saw the same leader election) so they do not retry in lockstep.

export interface BackoffOptions {
  /** Delay before the first retry. */
  baseDelayMs: number;
  /** Upper bound on any one delay. */
  delayMsMax: number;
  /** Random source in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

export const defaultBackoff: BackoffOptions = { baseDelayMs: 50, delayMsMax: 2_000 };

/**
 * "Full jitter" (AWS architecture blog): a uniform delay in [0, min(max, base * 2^attempt)].
 * `attempt` counts from 0 for the first retry.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = defaultBackoff): number {
  const random = options.random ?? Math.random;
  const ceilingMs = Math.min(options.delayMsMax, options.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceilingMs);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
