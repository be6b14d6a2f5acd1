// Requests to one replica from this isolate, coalesced into batch RPCs. While an RPC to the
// replica is on the wire, later requests gather in one open batch, which leaves as one RPC when
// the wire is free. A lone request leaves at once (it waits for nothing); under load one RPC
// carries many requests. On this runtime a Worker → Durable Object RPC costs more CPU than the
// leader's own work for a read on its lease: it was the largest cost per request left.
//
// Why a batch is sent by its first request, and why the others wait on promises the sender made:
// workerd binds I/O to the request that starts it and cancels it when that request ends, and it
// runs a continuation in the waiting request's own context only when the awaited promise was made
// by another request. So every request does its I/O itself, and waits only on promises made by a
// request that is still running (the sender on the wire, the first of its batch).
//
// A request can still vanish mid-wait (its client hung up, and workerd cancelled it): a timer of
// the waiter's own bounds every wait. A wire whose sender never came back is taken over when the
// wait for it times out; a batch whose first request never came back for it is left behind when
// the wire has been free for a while; in both cases the worst is two RPCs on the wire at once.
import { assert } from "../raft/assert.ts";

export interface CoalesceLimits {
  /** Requests in one batch. */
  itemsMax: number;
  /** Request bytes in one batch (a larger request still leaves, alone). */
  bytesMax: number;
  /**
   * Longest wait for the wire (then it is taken over) and for a batch's RPC (a request that joined
   * a batch waits for both, then fails; the caller retries).
   */
  waitMsMax: number;
  /** How soon after the wire is free the first request of the open batch must send it. */
  openerGraceMs: number;
}

interface Batch<R, A> {
  requests: R[];
  bytes: number;
  answers: Promise<A[]>;
  resolve: (answers: A[]) => void;
  reject: (error: unknown) => void;
}

/** One replica's requests of one kind (proposals, reads). */
export class Coalescer<R, A> {
  readonly #limits: CoalesceLimits;
  /** The RPC on the wire: resolved by its sender when it comes back. */
  #wire: Promise<void> | null = null;
  /** The batch gathering requests while the wire is busy. */
  #open: Batch<R, A> | null = null;
  /** When the wire was last freed (ms): an open batch not sent soon after was left behind. */
  #freedAtMs = 0;
  /** RPCs sent, and the requests they carried (tests, diagnostics). */
  readonly counts = { rpcs: 0, requests: 0 };

  constructor(limits: CoalesceLimits) {
    assert(limits.itemsMax >= 1 && limits.bytesMax >= 1 && limits.waitMsMax >= 1 && limits.openerGraceMs >= 1, "coalesce limits must be positive");
    this.#limits = limits;
  }

  /**
   * The answer to `request`. `send` makes one RPC for the requests given and answers each, in
   * order; it is called only by the request that sends, in its own context.
   */
  async call(request: R, bytes: number, send: (requests: R[]) => Promise<A[]>): Promise<A> {
    if (this.#wire === null && this.#open !== null && Date.now() - this.#freedAtMs > this.#limits.openerGraceMs) {
      this.#open = null; // its first request never came back for it (the others time out)
    }
    if (this.#wire === null && this.#open === null) return (await this.#send([request], send))[0]!;
    const open = this.#open;
    if (open !== null && open.requests.length < this.#limits.itemsMax && open.bytes + bytes <= this.#limits.bytesMax) {
      const at = open.requests.push(request) - 1;
      open.bytes += bytes;
      // Twice the bound: the batch waits for the wire, then for its own RPC.
      return (await this.#bounded(open.answers, 2 * this.#limits.waitMsMax))[at]!;
    }
    // This request opens the next batch and sends it once the wire is free.
    const batch = this.#newBatch(request, bytes);
    this.#open = batch;
    for (let wire = this.#wire; wire !== null; wire = this.#wire) {
      try {
        await this.#bounded(wire, this.#limits.waitMsMax);
      } catch {
        if (this.#wire === wire) this.#wire = null; // its sender never came back: take the wire over
      }
    }
    if (this.#open === batch) this.#open = null;
    try {
      const answers = await this.#send(batch.requests, send);
      batch.resolve(answers);
      return answers[0]!;
    } catch (error) {
      batch.reject(error);
      throw error;
    }
  }

  async #send(requests: R[], send: (requests: R[]) => Promise<A[]>): Promise<A[]> {
    let free!: () => void;
    const wire = new Promise<void>((resolve) => (free = resolve));
    this.#wire = wire;
    this.counts.rpcs++;
    this.counts.requests += requests.length;
    try {
      const answers = await send(requests);
      assert(answers.length === requests.length, `a batch of ${requests.length} requests got ${answers.length} answers`);
      return answers;
    } finally {
      if (this.#wire === wire) this.#wire = null;
      this.#freedAtMs = Date.now();
      free();
    }
  }

  #newBatch(request: R, bytes: number): Batch<R, A> {
    let resolve!: Batch<R, A>["resolve"];
    let reject!: Batch<R, A>["reject"];
    const answers = new Promise<A[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    answers.catch(() => {}); // a batch nobody joined fails unobserved: its sender throws anyway
    return { requests: [request], bytes, answers, resolve, reject };
  }

  /** `promise`, or a timeout error after `ms` (a timer of this request's own). */
  #bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms from the batch this request joined; retry`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}

/** Coalescers by key (a replica's address), for the whole isolate like the placement hints. */
export class Coalescers<R, A> {
  readonly #byKey = new Map<string, Coalescer<R, A>>();
  constructor(readonly limits: CoalesceLimits) {}

  of(key: string): Coalescer<R, A> {
    let c = this.#byKey.get(key);
    if (c === undefined) this.#byKey.set(key, (c = new Coalescer(this.limits)));
    return c;
  }
}
