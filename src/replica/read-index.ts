// Linearizable reads by ReadIndex (Raft §6.4), batched: every read that arrives while one
// ReadIndex is in flight joins the next one, so a thousand concurrent readers cost one
// confirmation round, not a thousand. A read may not join the round in flight: that round may
// have started before the read arrived, and its index could miss a write acknowledged just before.

interface Batch {
  context: string;
  waiters: Array<(index: number | null) => void>;
  timer?: ReturnType<typeof setTimeout>;
}

export interface ReadIndexHost {
  /** Asks the core for a read index tagged `context` (and drives it). */
  issue(context: string): void;
  timeoutMs: number;
}

export class ReadIndexBatcher {
  #inFlight: Batch | null = null;
  #next: Batch | null = null;
  #counter = 0;
  readonly #nonce = crypto.randomUUID().slice(0, 8);

  constructor(private readonly host: ReadIndexHost) {}

  /** The commit index to apply up to before reading, or null when no leader confirmed in time. */
  request(): Promise<number | null> {
    return new Promise((resolve) => {
      this.#next ??= { context: `${this.#nonce}.${(this.#counter++).toString(36)}`, waiters: [] };
      this.#next.waiters.push(resolve);
      this.#issueNext();
    });
  }

  /** A ReadState from Ready: resolves the batch it answers. */
  onReadState(context: string, index: number): void {
    if (this.#inFlight?.context !== context) return; // a batch that already timed out
    this.#finish(index);
  }

  #issueNext(): void {
    if (this.#inFlight !== null || this.#next === null) return;
    const batch = this.#next;
    this.#next = null;
    this.#inFlight = batch;
    batch.timer = setTimeout(() => {
      if (this.#inFlight === batch) this.#finish(null);
    }, this.host.timeoutMs);
    try {
      this.host.issue(batch.context);
    } catch (error) {
      console.warn(`read index ${batch.context} could not be issued`, error);
      if (this.#inFlight === batch) this.#finish(null);
    }
  }

  #finish(index: number | null): void {
    const batch = this.#inFlight;
    if (batch === null) return;
    clearTimeout(batch.timer);
    this.#inFlight = null;
    for (const resolve of batch.waiters) resolve(index);
    this.#issueNext();
  }

  get waiting(): number {
    return (this.#inFlight?.waiters.length ?? 0) + (this.#next?.waiters.length ?? 0);
  }
}
