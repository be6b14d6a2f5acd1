// The chaos run's history: every client operation with its invoke and complete times and what
// the store answered, or null when the client could not tell whether a write took effect (a 5xx,
// a timeout, a broken connection); and every watch stream, session by session. Written as JSON
// lines; checked by check.ts against the revisions the store states.

/** What a client asked. Every value written is unique to its operation (it names it). */
export type Input =
  | {
      kind: "get";
      key: string;
      /** stale: `?consistency=stale`; min: stale with X-Edgecfg-Min-Revision `minRevision`. */
      mode: "linearizable" | "stale" | "min";
      minRevision?: number;
    }
  /** With `idempotencyKey`, a retry of an unknown outcome resends the same request. */
  | { kind: "put"; key: string; value: string; idempotencyKey?: string }
  /** `ifMatch: null` is If-None-Match: * (create only). */
  | { kind: "cas"; key: string; value: string; ifMatch: number | null }
  | { kind: "delete"; key: string }
  /** A txn comparing each key's modRevision, writing the new balances (JSON, naming the op). */
  | { kind: "transfer"; ifMatch: Record<string, number>; writes: Record<string, string> }
  /** A txn of gets only: one consistent snapshot of `keys`. */
  | { kind: "readAll"; keys: string[] };

/** A key as an answer showed it: `modRevision: null` is absent; `value` undefined is untold. */
export interface Seen {
  key: string;
  modRevision: number | null;
  value?: string | null;
}

/**
 * What the store answered. `wrote`: the write committed at `revision`. `read`: the state at
 * `revision` (X-Edgecfg-Revision; X-Edgecfg-Applied-Revision for a stale read) showed `seen`;
 * failed preconditions (412, a txn's failure branch) and a DELETE's 404 answer this way too.
 */
export type Output =
  | { kind: "wrote"; revision: number }
  | { kind: "read"; revision: number; seen: Seen[] };

export interface Recorded {
  client: number;
  input: Input;
  /** null: the outcome is unknown. */
  output: Output | null;
  /** ms since the run began. */
  invokeMs: number;
  /** null: the outcome is unknown. */
  completeMs: number | null;
  /** Requests sent (an idempotent put retries an unknown outcome). */
  attempts?: number;
}

/** A change a watch delivered: `value: null` is a delete. */
export interface WatchEvent {
  revision: number;
  key: string;
  value: string | null;
}

/**
 * One connection of a watch: it asked for changes after `after` (fromRevision - 1 or
 * Last-Event-ID) and holds `events` up to `lastId`, the last id it received (the stream's resume
 * position; a txn's events share one id, on the last of them).
 */
export interface WatchSession {
  after: number;
  lastId: number;
  events: WatchEvent[];
  openedMs: number;
  closedMs: number;
  /** The stream said `compacted` (its position was too old): the revision to go on from. */
  compactedTo?: number;
}

export interface WatchLog {
  watcher: number;
  prefix: string;
  sessions: WatchSession[];
}

export class History {
  readonly ops: Recorded[] = [];
  readonly watches: WatchLog[] = [];
  readonly #t0 = performance.now();

  now(): number {
    return performance.now() - this.#t0;
  }

  record(op: Recorded): void {
    this.ops.push(op);
  }

  /** The history as JSON lines, with the faults injected (to redraw the timeline later). */
  lines(faults: readonly unknown[] = []): string {
    const ops = this.ops.map((op) => JSON.stringify({ op }));
    const watches = this.watches.map((watch) => JSON.stringify({ watch }));
    const injected = faults.map((fault) => JSON.stringify({ fault }));
    return [...ops, ...watches, ...injected].join("\n") + "\n";
  }
}

/** A history file back (the JSON lines `lines` wrote), to check it again: `--check FILE`. */
export function parseLines<F>(text: string): { ops: Recorded[]; watches: WatchLog[]; faults: F[] } {
  const ops: Recorded[] = [];
  const watches: WatchLog[] = [];
  const faults: F[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const row = JSON.parse(line) as { op?: Recorded; watch?: WatchLog; fault?: F };
    if (row.op) ops.push(row.op);
    if (row.watch) watches.push(row.watch);
    if (row.fault) faults.push(row.fault);
  }
  return { ops, watches, faults };
}
