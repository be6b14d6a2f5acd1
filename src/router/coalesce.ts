// Calls from one isolate to one replica coalesce: while a call to that replica is on the wire,
// the calls made meanwhile wait and leave together in the next one. One DO request then carries
// many reads or proposals, which the replica folds into one ReadIndex round or one append. DO
// requests are what the platform bills and, on local workerd, what bounds throughput. With
// nothing in flight a call leaves at once: coalescing adds no latency to a lone caller.
//
// A Worker's I/O belongs to the request that started it and ends with it, so every batch is sent
// by a request that waits for that batch: the caller that finds a free slot, or the oldest queued
// caller, woken when a slot frees, and kept alive by `waitUntil` so that a caller who hangs up
// cannot take the others' answers down with it. Answers cross request contexts as plain data.
import { AssertionError } from "../raft/assert.ts";

export interface CoalesceLimits {
  /** Batches on the wire to one replica at a time: two keep the replica busy while the next forms. */
  inFlightMax: number;
  /** Calls in one batch. */
  batchItemsMax: number;
  /** Summed `bytes` of the calls in one batch (a single larger call still goes, alone). */
  batchBytesMax: number;
}

/** Keeps the sending request alive until its batch settles (Workers: `waitUntil`). */
export type KeepAlive = (settled: Promise<unknown>) => void;

/** Sends one batch; answers in the order of `items`, one per item. */
export type SendBatch<I, A> = (items: I[]) => Promise<A[]>;

interface Waiter<I, A> {
  item: I;
  bytes: number;
  sent: boolean;
  /** Resolves this caller's own wait for a free slot (set while it waits). */
  wake: (() => void) | null;
  done: Deferred<A>;
}

interface Deferred<A> {
  promise: Promise<A>;
  resolve(answer: A): void;
  reject(error: unknown): void;
}

function deferred<A>(): Deferred<A> {
  let resolve!: (answer: A) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<A>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

class Lane<I, A> {
  readonly #queue: Waiter<I, A>[] = [];
  #inFlight = 0;

  constructor(
    private readonly limits: CoalesceLimits,
    private readonly keepAlive: KeepAlive,
  ) {}

  async call(item: I, bytes: number, send: SendBatch<I, A>): Promise<A> {
    const me: Waiter<I, A> = { item, bytes, sent: false, wake: null, done: deferred<A>() };
    this.#queue.push(me);
    while (!me.sent) {
      if (this.#inFlight < this.limits.inFlightMax) {
        // Not awaited here: this caller's answer may come from this batch or (when the queue was
        // longer than one batch) a later one; `done` says which.
        this.keepAlive(this.#send(send));
      } else {
        await new Promise<void>((resolve) => (me.wake = resolve));
        me.wake = null;
      }
    }
    return me.done.promise;
  }

  get idle(): boolean {
    return this.#inFlight === 0 && this.#queue.length === 0;
  }

  async #send(send: SendBatch<I, A>): Promise<void> {
    const batch = this.#take();
    this.#inFlight++;
    try {
      const answers = await send(batch.map((w) => w.item));
      if (answers.length !== batch.length) throw new AssertionError(`a batch of ${batch.length} calls got ${answers.length} answers`);
      batch.forEach((w, i) => w.done.resolve(answers[i]!));
    } catch (error) {
      for (const w of batch) w.done.reject(error);
    } finally {
      this.#inFlight--;
      // A queued caller sends the next batch, from its own request. All are woken, not just the
      // oldest: a caller whose request was cancelled never runs again, and must not stall the rest.
      for (const w of this.#queue) w.wake?.();
    }
  }

  /** The oldest queued calls that fit one batch (at least one); they stop waiting for a slot. */
  #take(): Waiter<I, A>[] {
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && n < this.limits.batchItemsMax) {
      const next = this.#queue[n]!;
      if (n > 0 && bytes + next.bytes > this.limits.batchBytesMax) break;
      bytes += next.bytes;
      n++;
    }
    const batch = this.#queue.splice(0, n);
    for (const w of batch) {
      w.sent = true;
      w.wake?.();
    }
    return batch;
  }
}

/** Lanes by key (one per replica and method); a lane is dropped when it has nothing to do. */
export class Coalescer<I, A> {
  readonly #lanes = new Map<string, Lane<I, A>>();

  constructor(
    private readonly limits: CoalesceLimits,
    private readonly keepAlive: KeepAlive,
  ) {}

  async call(key: string, item: I, bytes: number, send: SendBatch<I, A>): Promise<A> {
    let lane = this.#lanes.get(key);
    if (lane === undefined) this.#lanes.set(key, (lane = new Lane(this.limits, this.keepAlive)));
    try {
      return await lane.call(item, bytes, send);
    } finally {
      if (lane.idle && this.#lanes.get(key) === lane) this.#lanes.delete(key);
    }
  }
}
