// Leases and locks (http-api.md "Leases and locks"): a lease kept alive in the background until
// closed or lost, and withLock, which runs a function while a lock is held and tells it, by an
// AbortSignal, when the lease (and so the lock) is lost. Every write the function makes under
// the lock should carry `fence`: the store then refuses it once the token no longer holds.
import { namespaceOf } from "./keys.ts";
import type { ClientContext } from "./context.ts";
import { EdgecfgError, NotFoundError } from "./errors.ts";
import { call, type CallOptions } from "./http.ts";

export interface LeaseInfo {
  id: string;
  namespace: string;
  ttlSeconds: number;
  expiresAt: string;
}

export interface Lease extends LeaseInfo {
  /** Aborted once the lease is lost (expired, revoked, or unreachable past its expiry). */
  readonly signal: AbortSignal;
  keepAlive(): Promise<void>;
  /** Stops the keep-alive and revokes the lease (its keys are deleted, its locks freed). */
  revoke(): Promise<void>;
  /** Stops the keep-alive only: the lease then ends at its expiry unless kept alive elsewhere. */
  stop(): void;
}

export interface LockHold {
  lock: string;
  lease: string;
  fencingToken: number;
  /** For the writes the lock guards: `put(key, v, {fence})` is refused once the lock is lost. */
  fence: { lock: string; token: number };
  /** Aborted when the lease is lost: stop acting as the holder. */
  signal: AbortSignal;
}

export interface WithLockOptions extends CallOptions {
  /** The lease's TTL (default 10 s): a crashed holder's lock is free within about this long. */
  ttlSeconds?: number;
  /** How long to wait in line in all (default 60 s); LockBusyError after it. */
  waitSeconds?: number;
}

/** The lock was still held by another lease when the wait ended (409). */
export class LockBusyError extends EdgecfgError {
  override name = "LockBusyError";
}

const json = { "content-type": "application/json" };

export async function grantLease(
  ctx: ClientContext,
  namespace: string,
  ttlSeconds: number,
  o: CallOptions = {},
): Promise<Lease> {
  const info = await ctx.http.send(
    {
      method: "POST",
      path: "/v1/leases",
      headers: { ...json, "idempotency-key": crypto.randomUUID() },
      body: JSON.stringify({ namespace, ttlSeconds }),
      namespace,
      ...call(o),
    },
    async (res) => (await res.json()) as LeaseInfo,
  );
  return new KeptLease(ctx, info);
}

class KeptLease implements Lease {
  readonly id: string;
  readonly namespace: string;
  readonly ttlSeconds: number;
  expiresAt: string;
  readonly #lost = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    private readonly ctx: ClientContext,
    info: LeaseInfo,
  ) {
    this.id = info.id;
    this.namespace = info.namespace;
    this.ttlSeconds = info.ttlSeconds;
    this.expiresAt = info.expiresAt;
    this.#schedule();
  }

  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  async keepAlive(): Promise<void> {
    const path = `/v1/leases/${encodeURIComponent(this.id)}/keepalive`;
    try {
      const info = await this.ctx.http.send(
        { method: "POST", path, namespace: this.namespace },
        async (res) => (await res.json()) as { expiresAt: string },
      );
      this.expiresAt = info.expiresAt;
    } catch (error) {
      if (error instanceof NotFoundError) this.#lose(error);
      throw error;
    }
  }

  async revoke(): Promise<void> {
    clearTimeout(this.#timer);
    const path = `/v1/leases/${encodeURIComponent(this.id)}`;
    try {
      await this.ctx.http.send(
        { method: "DELETE", path, namespace: this.namespace },
        async () => {},
      );
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    } finally {
      this.#lose(new Error(`lease ${this.id} revoked`));
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#stopped = true;
  }

  /** A keep-alive every third of the TTL; the lease is lost once one fails past its expiry. */
  #schedule(): void {
    if (this.#lost.signal.aborted || this.#stopped) return;
    this.#timer = setTimeout(
      () => {
        this.keepAlive()
          .catch(() => {
            if (Date.parse(this.expiresAt) <= Date.now()) this.#lose(new Error("lease expired"));
          })
          .finally(() => this.#schedule());
      },
      (this.ttlSeconds * 1000) / 3,
    );
  }

  #lose(reason: unknown): void {
    clearTimeout(this.#timer);
    if (!this.#lost.signal.aborted) this.#lost.abort(reason);
  }
}

/** Acquires `lock` ("{namespace}/{name}") for the lease, waiting in line up to `waitMs`. */
export async function acquire(ctx: ClientContext, lock: string, lease: Lease, waitMs: number) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const wait = Math.max(0, Math.min(60_000, deadline - Date.now())) / 1000;
    try {
      return await ctx.http.send(
        {
          method: "POST",
          path: `/v1/locks/${lock.split("/").map(encodeURIComponent).join("/")}`,
          headers: json,
          body: JSON.stringify({ lease: lease.id, wait }),
          namespace: lease.namespace,
          timeoutMs: (wait + 10) * 1000,
        },
        async (res) => (await res.json()) as { lock: string; lease: string; fencingToken: number },
      );
    } catch (error) {
      const busy = error instanceof EdgecfgError && error.status === 409;
      if (!busy) throw error;
      if (Date.now() >= deadline) throw new LockBusyError(409, error.problem);
    }
  }
}

/** Runs `fn` while holding `lock`; releases it and revokes the lease however fn ends. */
export async function withLock<T>(
  ctx: ClientContext,
  lock: string,
  fn: (hold: LockHold) => Promise<T> | T,
  o: WithLockOptions = {},
): Promise<T> {
  const namespace = namespaceOf(lock);
  const lease = await grantLease(ctx, namespace, o.ttlSeconds ?? 10, o);
  try {
    const held = await acquire(ctx, lock, lease, (o.waitSeconds ?? 60) * 1000);
    const fence = { lock, token: held.fencingToken };
    return await fn({ ...held, fence, signal: lease.signal });
  } finally {
    // Revoking frees the lock too, in the same command: no separate release is needed.
    await lease.revoke().catch(() => {});
  }
}

/** The namespace a lease id names ("{namespace}~{n}"). */
const namespaceOfLease = (id: string) => id.slice(0, Math.max(0, id.lastIndexOf("~")));
const leasePath = (id: string) => `/v1/leases/${encodeURIComponent(id)}`;

/** A lease by id, without keeping it alive: for tools that hold no lease object. */
export const leases = {
  get: (ctx: ClientContext, id: string, o: CallOptions = {}) =>
    ctx.http.send(
      { method: "GET", path: leasePath(id), namespace: namespaceOfLease(id), ...call(o) },
      async (res) => (await res.json()) as LeaseInfo & { keys: string[] },
    ),
  keepAlive: (ctx: ClientContext, id: string, o: CallOptions = {}) =>
    ctx.http.send(
      {
        method: "POST",
        path: `${leasePath(id)}/keepalive`,
        namespace: namespaceOfLease(id),
        ...call(o),
      },
      async (res) => (await res.json()) as Omit<LeaseInfo, "namespace">,
    ),
  revoke: (ctx: ClientContext, id: string, o: CallOptions = {}) =>
    ctx.http.send(
      { method: "DELETE", path: leasePath(id), namespace: namespaceOfLease(id), ...call(o) },
      async () => {},
    ),
};

/** The client's coordination methods (createClient spreads them in). */
export function api(ctx: ClientContext) {
  return {
    /** A lease of `namespace`, kept alive every third of its TTL until revoked or lost. */
    lease: (namespace: string, ttlSeconds: number, o?: CallOptions): Promise<Lease> =>
      grantLease(ctx, namespace, ttlSeconds, o),
    /** Leases by id, not kept alive here (for tools): show, keep alive once, revoke. */
    leases: {
      get: (id: string, o?: CallOptions) => leases.get(ctx, id, o),
      keepAlive: (id: string, o?: CallOptions) => leases.keepAlive(ctx, id, o),
      revoke: (id: string, o?: CallOptions) => leases.revoke(ctx, id, o),
    },
    /** Runs fn while holding lock "{namespace}/{name}" (fencing token, signal on loss). */
    withLock: <T>(
      lock: string,
      fn: (hold: LockHold) => Promise<T> | T,
      o?: WithLockOptions,
    ): Promise<T> => withLock(ctx, lock, fn, o),
  };
}
