// The checks of the txn simulator, over the ground truth of every apply in every group
// (world.ts ApplyObserver):
// - atomicity: a txn decided commit is committed, with its prepare, by every participant; a
//   txn not decided commit is committed by none;
// - serializability: the direct serialization graph of the committed txns (Adya: ww, wr and rw
//   edges from the versions each txn read and wrote, versions ordered by modRevision per key)
//   has no cycle, and no committed txn read a version no committed txn wrote;
// - exactly once: the writes of one keyed request (Idempotency-Key) are applied by at most one
//   txn, and by each of its groups at most once (a replay applies nothing, not even a part);
// - the replay says what happened: an attempt of a keyed request answered committed means the
//   request was applied, and every committed answer of one request carries the same results
//   (answers are numbered in the order they were given; an attempt cut off gives none);
// - after healing (run.ts): no intent left, and the bank's total unchanged.
import type {
  Command,
  Key,
  Store,
  TxnOp,
  TxnOpResult,
  WriteOutcome,
} from "../../../src/store/index.ts";
import type { ReplayedFrom, TxnAnswer } from "./client.ts";
import type { ApplyObserver } from "./world.ts";

interface TxnTruth {
  groups: number[];
  /** group -> the ops of its part, as prepared there (first prepare applied). */
  parts: Map<number, { success: TxnOp[]; failure: TxnOp[] }>;
  decision: { decision: "commit" | "abort"; branch?: "success" | "failure" } | null;
  /** group -> how it resolved the txn first: its decision, and whether it held the prepare. */
  resolved: Map<number, { decision: "commit" | "abort"; hadPrepare: boolean }>;
  /** What the client was told. */
  answer: "committed" | "aborted" | "unknown" | null;
  reads: Map<Key, number>;
  writes: Map<Key, number>;
  idempotencyKey?: string;
}

/** One application of a keyed request's writes: the txn that applied them, and where. */
interface Application {
  instance: string;
  group: number;
}

interface Node {
  id: string;
  reads: Map<Key, number>;
  writes: Map<Key, number>;
}

export class History implements ApplyObserver {
  readonly txns = new Map<string, TxnTruth>();
  /** Single-shard txns that ran, and the initial writes ("init"). */
  readonly singles: Node[] = [];
  private pendingReads = new Map<Key, number>();
  private hadPrepare = false;
  commits = 0;
  /** Txns begun and not committed: aborted, or abandoned and resolved by recovery. */
  aborts = 0;

  /** Keyed request -> every application of its writes (ground truth). */
  readonly applied = new Map<string, Application[]>();
  /** Requests refused because their key was recorded for another request. */
  keysReused = 0;
  /** Keyed request -> what each of its attempts was told. */
  readonly attempts = new Map<string, { txnId: string | null; answer: TxnAnswer }[]>();

  begin(txnId: string, groups: number[], idempotencyKey?: string): void {
    // The old protocol's retry is the same txn id again: one truth for every instance.
    if (this.txns.has(txnId)) return;
    this.txns.set(txnId, {
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      groups,
      parts: new Map(),
      decision: null,
      resolved: new Map(),
      answer: null,
      reads: new Map(),
      writes: new Map(),
    });
  }

  answered(txnId: string, answer: "committed" | "aborted" | "unknown"): void {
    this.txns.get(txnId)!.answer = answer;
  }

  attempted(idempotencyKey: string, txnId: string | null, answer: TxnAnswer): void {
    const list = this.attempts.get(idempotencyKey) ?? [];
    list.push({ txnId, answer });
    this.attempts.set(idempotencyKey, list);
  }

  private apply(idempotencyKey: string, a: Application): void {
    const list = this.applied.get(idempotencyKey) ?? [];
    list.push(a);
    this.applied.set(idempotencyKey, list);
  }

  beforeApply(_group: number, store: Store, c: Command): void {
    if (c.type === "txnPrepare" || c.type === "txn" || c.type === "shardTxn") {
      this.pendingReads = new Map();
      for (const x of [...c.compare, ...c.success, ...c.failure]) {
        if ("target" in x || x.type === "get")
          this.pendingReads.set(x.key, modRevision(store, x.key));
      }
      this.hadPrepare = c.type === "txnPrepare" && store.prepared(c.txnId);
    }
    if (c.type === "txnResolve" || c.type === "txnRecordDecide" || c.type === "txnRecordSettle")
      this.hadPrepare = store.prepared(c.txnId);
  }

  afterApply(group: number, _store: Store, c: Command, o: WriteOutcome): void {
    if (o.type === "invalid" && o.reason === "idempotencyKeyReused") this.keysReused += 1;
    if ((c.type === "txn" || c.type === "shardTxn") && o.type === "txn") this.single(group, c, o);
    if (c.type === "put" && o.type === "ok")
      this.singles.push({
        id: `init:${c.key}`,
        reads: new Map(),
        writes: new Map([[c.key, o.revision]]),
      });
    const t = "txnId" in c ? this.txns.get(c.txnId) : undefined;
    if (t === undefined) return;
    if (c.type === "txnPrepare" && o.type === "txnPrepared" && !this.hadPrepare) {
      t.parts.set(group, { success: c.success, failure: c.failure });
      for (const [k, r] of this.pendingReads) t.reads.set(k, r);
    }
    const decides = c.type === "txnRecordDecide" || c.type === "txnRecordSettle";
    if (decides && o.type === "txnDecision" && o.first && t.decision === null)
      t.decision = {
        decision: o.decision === "commit" ? "commit" : "abort",
        ...(o.branch === undefined ? {} : { branch: o.branch }),
      };
    if (c.type === "txnResolve" && o.type === "txnResolved")
      this.resolution(c.txnId, t, group, o, c.branch);
    // A decision that resolved the record's own group in the same entry.
    if (decides && o.type === "txnDecision" && o.resolved !== undefined)
      this.resolution(c.txnId, t, group, o.resolved, o.branch);
  }

  private resolution(
    txnId: string,
    t: TxnTruth,
    group: number,
    o: Extract<WriteOutcome, { type: "txnResolved" }>,
    branch: "success" | "failure" | undefined,
  ): void {
    // Counted before the first-resolution filter: a txn id prepared again commits again.
    if (this.hadPrepare && o.decision === "commit" && t.idempotencyKey !== undefined)
      this.apply(t.idempotencyKey, { instance: txnId, group });
    if (t.resolved.has(group)) return;
    t.resolved.set(group, { decision: o.decision, hadPrepare: this.hadPrepare });
    const part = t.parts.get(group);
    if (this.hadPrepare && o.decision === "commit" && part !== undefined && branch !== undefined)
      for (const op of part[branch])
        if (op.type !== "get") t.writes.set(op.key, o.committedRevision);
  }

  private single(
    group: number,
    c: Extract<Command, { type: "txn" | "shardTxn" }>,
    o: Extract<WriteOutcome, { type: "txn" }>,
  ): void {
    if (o.deduplicated === true) return;
    if (c.idempotencyKey !== undefined)
      this.apply(c.idempotencyKey, { instance: `single:${this.singles.length}`, group });
    const writes = new Map<Key, number>();
    for (const op of o.succeeded ? c.success : c.failure)
      if (op.type !== "get") writes.set(op.key, o.revision);
    this.singles.push({ id: `single:${this.singles.length}`, reads: this.pendingReads, writes });
  }

  /** Every atomicity violation, described. */
  atomicityViolations(): string[] {
    const out: string[] = [];
    for (const [id, t] of this.txns) {
      const commit = t.decision?.decision === "commit";
      if (commit) this.commits += 1;
      else this.aborts += 1;
      if (t.answer === "committed" && !commit)
        out.push(`txn ${id} was answered committed, not decided`);
      if (t.answer === "aborted" && commit)
        out.push(`txn ${id} was answered aborted but decided commit`);
      for (const g of t.groups) {
        const r = t.resolved.get(g);
        if (commit && (r === undefined || r.decision !== "commit" || !r.hadPrepare))
          out.push(
            `txn ${id} was decided commit but group ${g} ${r === undefined ? "never resolved it" : r.hadPrepare ? `resolved ${r.decision}` : `resolved ${r.decision} without its prepare`}`,
          );
        if (!commit && r?.decision === "commit" && r.hadPrepare)
          out.push(
            `txn ${id} was ${t.decision === null ? "never decided" : "decided abort"} but group ${g} committed it`,
          );
      }
    }
    return out;
  }

  /** Every keyed request applied by two txns, or twice by one group, described. */
  exactlyOnceViolations(): string[] {
    const out: string[] = [];
    for (const [key, apps] of this.applied) {
      const instances = [...new Set(apps.map((a) => a.instance))];
      if (instances.length > 1)
        out.push(`request ${key} was applied by ${instances.length} txns: ${instances.join(", ")}`);
      for (const instance of instances) {
        const groups = apps.filter((a) => a.instance === instance).map((a) => a.group);
        const twice = [...new Set(groups.filter((g, i) => groups.indexOf(g) !== i))];
        if (twice.length === 0) continue;
        const all = this.txns.get(instance)?.groups ?? [];
        const part =
          twice.length < all.length ? `, a part of it (of groups ${all.join(", ")})` : "";
        out.push(
          `request ${key} was applied again by ${instance} at groups ${twice.join(", ")}${part}`,
        );
      }
    }
    return out;
  }

  /** Every keyed attempt answered committed that misstates what happened, described. */
  replayViolations(): string[] {
    const out: string[] = [];
    for (const [key, attempts] of this.attempts) {
      let first: string | null = null;
      attempts.forEach(({ txnId, answer }, i) => {
        if (answer.kind !== "committed") return;
        const replayed = answer.replayed === undefined ? "" : `, replayed from ${answer.replayed}`;
        const how = `answer ${i + 1} (${txnId ?? "single-shard"}${replayed})`;
        if (!this.applied.has(key))
          out.push(`request ${key}: ${how} was answered committed, but it was never applied`);
        const results = resultsText(answer.results);
        first ??= results;
        if (results !== first)
          out.push(
            `request ${key}: ${how} answered results ${brief(answer.results)}, not the first's`,
          );
      });
    }
    return out;
  }

  /** Keyed figures: replayed answers by source, replays that found the first gone, applied. */
  keyedFigures(): {
    replays: Record<ReplayedFrom, number>;
    replaysGone: number;
    keyedApplied: number;
    keysReused: number;
  } {
    const replays = { deduplicated: 0, keyRecord: 0, tombstones: 0, txnId: 0 };
    let replaysGone = 0;
    for (const list of this.attempts.values())
      for (const { answer: a } of list) {
        if (a.kind === "committed" && a.replayed !== undefined) replays[a.replayed] += 1;
        if (a.kind === "unknown" && a.gone === true) replaysGone += 1;
      }
    return { replays, replaysGone, keyedApplied: this.applied.size, keysReused: this.keysReused };
  }

  /** Committed txns as graph nodes: 2PC ones decided commit, single-shard ones, the initial writes. */
  private nodes(): Node[] {
    const out = [...this.singles];
    for (const [id, t] of this.txns)
      if (t.decision?.decision === "commit") out.push({ id, reads: t.reads, writes: t.writes });
    return out;
  }

  /** A cycle of the direct serialization graph, or a read of a version nobody committed; null. */
  serializabilityViolation(): string | null {
    const nodes = this.nodes();
    const writer = new Map<string, number>();
    const versions = new Map<Key, number[]>();
    nodes.forEach((n, i) => {
      for (const [k, r] of n.writes) {
        writer.set(`${k}@${r}`, i);
        versions.set(k, [...(versions.get(k) ?? []), r]);
      }
    });
    for (const list of versions.values()) list.sort((a, b) => a - b);
    const edges: Set<number>[] = nodes.map(() => new Set());
    const edge = (from: number | undefined, to: number | undefined) => {
      if (from !== undefined && to !== undefined && from !== to) edges[from]!.add(to);
    };
    for (const list of versions) {
      const [k, revs] = list;
      for (let i = 1; i < revs.length; i++)
        edge(writer.get(`${k}@${revs[i - 1]}`), writer.get(`${k}@${revs[i]}`));
    }
    for (let i = 0; i < nodes.length; i++) {
      for (const [k, r] of nodes[i]!.reads) {
        if (r !== 0 && !writer.has(`${k}@${r}`))
          return `${nodes[i]!.id} read ${k} at revision ${r}, which no committed txn wrote`;
        edge(writer.get(`${k}@${r}`), i);
        const next = versions.get(k)?.find((v) => v > r);
        if (next !== undefined) edge(i, writer.get(`${k}@${next}`));
      }
    }
    const cycle = findCycle(edges);
    return cycle === null
      ? null
      : `serialization graph cycle: ${cycle.map((i) => nodes[i]!.id).join(" -> ")}`;
  }
}

/** Results in short: each op and the revision it left. */
function brief(results: TxnOpResult[]): string {
  const at = (r: TxnOpResult) =>
    r.type === "put" ? r.entry.modRevision : r.type === "get" ? (r.entry?.modRevision ?? 0) : 0;
  return `[${results.map((r) => `${r.type}@${at(r)}`).join(", ")}]`;
}

/** Results as comparable text (values decoded, entries as they are). */
function resultsText(results: TxnOpResult[]): string {
  return JSON.stringify(results, (_, v) =>
    v instanceof Uint8Array ? new TextDecoder().decode(v) : v,
  );
}

function modRevision(store: Store, key: Key): number {
  const m = store.meta(key);
  return m.type === "found" ? m.entry.modRevision : 0;
}

/** A cycle (node indexes, first repeated last) by iterative depth-first search, or null. */
export function findCycle(edges: Set<number>[]): number[] | null {
  const color = edges.map(() => 0);
  const parent = edges.map(() => -1);
  for (let root = 0; root < edges.length; root++) {
    if (color[root] !== 0) continue;
    const stack: [number, Iterator<number>][] = [[root, edges[root]!.values()]];
    color[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = top[1].next();
      if (next.done) {
        color[top[0]] = 2;
        stack.pop();
        continue;
      }
      const v = next.value;
      if (color[v] === 1) {
        const cycle = [v];
        for (let u = top[0]; u !== v; u = parent[u]!) cycle.push(u);
        return [v, ...cycle.slice(1).reverse(), v];
      }
      if (color[v] === 0) {
        color[v] = 1;
        parent[v] = top[0];
        stack.push([v, edges[v]!.values()]);
      }
    }
  }
  return null;
}
