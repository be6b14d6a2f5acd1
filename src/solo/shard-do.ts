// SoloShardDO: one shard held by one Durable Object, without replication. Linearizable by
// construction (one single-threaded object applies every write in order); durable through its
// SQLite log and snapshots (durable-log.ts). It is the first end-to-end backend and the
// benchmark's "single Durable Object floor"; the Raft replicas keep the same Router contract.
import { DurableObject } from "cloudflare:workers";
import {
  encodeCommand,
  type Command,
  type Query,
  type QueryResult,
  type Revision,
  type Store,
  type WriteOutcome,
} from "../store/index.ts";
import { DurableLog } from "./durable-log.ts";
import { Waiters } from "./waiters.ts";

export interface SoloStatus {
  revision: Revision;
  appliedIndex: number;
  waiters: number;
  lastRequestMs: number | null;
}

export type SoloWait =
  | { type: "changed" | "timeout"; revision: Revision }
  | { type: "busy"; revision: Revision };

/** It reads no bindings: everything it needs arrives with each call. */
export class SoloShardDO extends DurableObject {
  private readonly log: DurableLog;
  private store!: Store;
  private readonly waiters = new Waiters();
  private lastRequestMs: number | null = null;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.log = new DurableLog(ctx.storage);
    // Synchronous SQLite: the store is ready before the first request is delivered.
    this.store = this.log.load();
  }

  /** Logs, applies and acknowledges one command; the reply leaves only once the log row is durable. */
  async write(command: Command): Promise<WriteOutcome> {
    this.lastRequestMs = Date.now();
    const bytes = encodeCommand(command);
    const index = this.store.appliedIndex + 1;
    this.log.append(index, bytes);
    let outcome: WriteOutcome;
    try {
      outcome = this.store.apply(index, bytes);
    } catch (error) {
      // A command the store rejects by assertion was never acknowledged: take it back and reload,
      // so a half-applied command cannot linger in memory.
      this.log.remove(index);
      this.store = this.log.load();
      throw error;
    }
    if (this.log.snapshotDue()) {
      try {
        this.log.saveSnapshot(this.store);
      } catch (error) {
        // The command is durable in the log already; a snapshot is only an optimisation of restarts.
        console.error("edgecfg solo: snapshot failed, will retry after the next command", error);
      }
    }
    this.waiters.notify(command, outcome);
    return outcome;
  }

  async read<Q extends Query>(query: Q): Promise<QueryResult<Q>> {
    this.lastRequestMs = Date.now();
    return this.store.answer(query);
  }

  async revision(): Promise<Revision> {
    return this.store.revision;
  }

  /** Resolves once `key` (or any key of `namespace`) is written after `afterRevision`, or at the timeout. */
  async waitForChange(
    namespace: string,
    key: string | undefined,
    afterRevision: Revision,
    timeoutMs: number,
  ): Promise<SoloWait> {
    this.lastRequestMs = Date.now();
    if (this.store.changedSince(namespace, key, afterRevision))
      return { type: "changed", revision: this.store.revision };
    const waiting = this.waiters.add(namespace, key, timeoutMs);
    if (waiting === null) return { type: "busy", revision: this.store.revision };
    const changed = await waiting;
    return { type: changed ? "changed" : "timeout", revision: this.store.revision };
  }

  async status(): Promise<SoloStatus> {
    return {
      revision: this.store.revision,
      appliedIndex: this.store.appliedIndex,
      waiters: this.waiters.size,
      lastRequestMs: this.lastRequestMs,
    };
  }
}
