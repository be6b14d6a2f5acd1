// The leader's part in leases (src/store/leases.ts): it alone decides expiry, on its clock. It
// arms the replica's one alarm for the earliest expiry (no tick while the group sleeps) and, when
// it fires, proposes leaseExpire for each lease then due; the store refuses one that a keep-alive
// or extension overtook. A new leader first proposes leasesExtend by the election timeout, so a
// lease kept alive under the old leader is not expired early by the new one's clock.
//
// Keep-alives are renewals in the leader's memory, as etcd's lessor keeps them: one DO request
// each (the router's), no log entry and no round to the followers, so a shard whose only traffic
// is keep-alives stays asleep. That is safe because only a leader holding its read lease renews
// (no other leader can exist meanwhile), and any later leader first extends every lease to at
// least its election + TTL + extendMs: beyond every renewal an earlier leader answered.
import { encodeCommand, type Lease, type Store } from "../store/index.ts";
import type { ProposeAnswer } from "./rpc.ts";

export class LeaseExpiry {
  /** Leases a leaseExpire is proposed for and not yet answered: proposed once, not every tick. */
  readonly #expiring = new Set<string>();
  /** Elected and not yet extended: the extension waits until the store has applied this index. */
  #extendAtIndex: number | null = null;
  /** The extension is proposed and not yet answered: expiries wait for it. */
  #extending = false;
  /** Renewals answered while leading: lease id → the expiry the holder was given. */
  readonly #renewals = new Map<string, number>();

  constructor(
    private readonly propose: (command: Uint8Array) => Promise<ProposeAnswer>,
    private readonly extendMs: number,
    private readonly label: string,
  ) {}

  /**
   * Leadership was just won, its first entry at `lastIndex`: once the store has applied it, it
   * holds every lease of earlier terms, and those are extended before any expiry is judged here.
   */
  elected(lastIndex: number): void {
    this.#extendAtIndex = lastIndex;
  }

  /** After entries are applied: the extension as soon as the earlier terms are all applied. */
  applied(store: Store, nowMs: number): void {
    if (this.#extendAtIndex === null || store.appliedIndex < this.#extendAtIndex) return;
    this.#extendAtIndex = null;
    // A shard with no lease stays as it was: no entry, so it quiesces as before.
    if (store.nextLeaseExpiryMs() === null) return;
    this.#send({ type: "leasesExtend", atMs: nowMs, extendMs: this.extendMs }, null);
  }

  /**
   * A keep-alive, answered by the leader on its read lease: the lease as the holder may rely on
   * it (expiry now + TTL, or later), or null once it has ended.
   */
  renew(store: Store, id: string, nowMs: number): Lease | null {
    const lease = store.lease(id);
    // Its leaseExpire is in flight: it is ending (a log entry would order the two; here the
    // holder hears it is gone, and grants anew).
    if (lease === null || this.#expiring.has(id)) return null;
    const expiresAtMs = Math.max(
      lease.expiresAtMs,
      this.#renewals.get(id) ?? 0,
      nowMs + lease.ttlMs,
    );
    if (expiresAtMs > lease.expiresAtMs) this.#renewals.set(id, expiresAtMs);
    return { ...lease, expiresAtMs };
  }

  /** A lease as this leader knows it: the store's, with its renewal. */
  view(lease: Lease | null): Lease | null {
    const renewed = lease === null ? undefined : this.#renewals.get(lease.id);
    if (lease === null || renewed === undefined || renewed <= lease.expiresAtMs) return lease;
    return { ...lease, expiresAtMs: renewed };
  }

  /** When the alarm must fire for leases: the earliest expiry while leading, else never. */
  wakeAtMs(store: Store, isLeader: boolean): number | null {
    return isLeader ? store.nextLeaseExpiryMs(this.#renewals) : null;
  }

  /** At the alarm, as leader: a leaseExpire for each lease due now (none before the extension). */
  act(store: Store, nowMs: number): void {
    if (this.#extendAtIndex !== null) this.applied(store, nowMs);
    if (this.#extendAtIndex !== null || this.#extending) return;
    for (const [id, until] of this.#renewals)
      if (until <= nowMs || store.lease(id) === null) this.#renewals.delete(id);
    for (const id of store.dueLeases(nowMs, this.#renewals)) {
      if (this.#expiring.has(id)) continue;
      this.#expiring.add(id);
      this.#send({ type: "leaseExpire", atMs: nowMs, id }, id);
    }
  }

  lost(): void {
    this.#extendAtIndex = null;
    this.#extending = false;
    // The next leader's extension covers them (see the header).
    this.#renewals.clear();
  }

  #send(command: Parameters<typeof encodeCommand>[0], id: string | null): void {
    if (id === null) this.#extending = true;
    // Not awaited: the round that found the lease due must not wait for its commit.
    queueMicrotask(() => {
      this.propose(encodeCommand(command))
        .then((answer) => {
          if (answer.type === "applied" || answer.type === "notLeader") return;
          console.warn(`replica ${this.label}: ${command.type} not applied (${answer.type})`);
          // Until an extension is in the log, no expiry may be judged: ask again next round.
          if (id === null) this.#extendAtIndex = 0;
        })
        .catch((error: unknown) => console.error(`replica ${this.label}: ${command.type}`, error))
        .finally(() => {
          if (id !== null) this.#expiring.delete(id);
          else this.#extending = false;
        });
    });
  }
}
