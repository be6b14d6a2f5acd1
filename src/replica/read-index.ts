// Linearizable reads by ReadIndex (Raft §6.4), batched: every read that arrives while one
// ReadIndex is in flight joins the next one, so a thousand concurrent readers cost one
// confirmation round, not a thousand. A read may not join the round in flight: that round may
// have started before the read arrived, and its index could miss a write acknowledged just before.

interface Batch {
  context: string;
  /** One promise for every read of the batch: a read costs no promise or callback of its own. */
  answer: Promise<number | null>;
  resolve: (index: number | null | PromiseLike<number | null>) => void;
  reads: number;
  timer?: ReturnType<typeof setTimeout>;
}

export interface ReadIndexHost {
  /** Asks the core for a read index tagged `context` (and drives it). */
  issue(context: string): void;
  /** What the batch's reads get for a confirmed index: it, once applied here (else null). */
  applied(index: number): number | null | Promise<number | null>;
  timeoutMs: number;
}

export class ReadIndexBatcher {
  #inFlight: Batch | null = null;
  #next: Batch | null = null;
  #counter = 0;
  readonly #nonce = crypto.randomUUID().slice(0, 8);

  constructor(private readonly host: ReadIndexHost) {}

  /**
   * The confirmed read index, already applied here when this resolves; null when no leader
   * confirmed it in time (or it was not applied in time).
   */
  request(): Promise<number | null> {
    const batch = (this.#next ??= this.#newBatch());
    batch.reads++;
    this.#issueNext();
    return batch.answer;
  }

  #newBatch(): Batch {
    let resolve!: Batch["resolve"];
    const answer = new Promise<number | null>((r) => (resolve = r));
    return {
      context: `${this.#nonce}.${(this.#counter++).toString(36)}`,
      answer,
      resolve,
      reads: 0,
    };
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
      // Routine while a group elects a leader: one line, not a stack trace.
      const why = error instanceof Error ? error.message : String(error);
      console.warn(`read index ${batch.context} could not be issued: ${why}`);
      if (this.#inFlight === batch) this.#finish(null);
    }
  }

  #finish(index: number | null): void {
    const batch = this.#inFlight;
    if (batch === null) return;
    clearTimeout(batch.timer);
    this.#inFlight = null;
    try {
      batch.resolve(index === null ? null : this.host.applied(index));
    } finally {
      this.#issueNext();
    }
  }

  get waiting(): number {
    return (this.#inFlight?.reads ?? 0) + (this.#next?.reads ?? 0);
  }
}
