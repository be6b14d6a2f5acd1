// Simulated clients: each runs one operation at a time (get, put, cas) against a replica of its
// choice, retries on silence or refusal, and gives up after a timeout. A get is served at once on
// the leader's read lease when it holds, else by ReadIndex. Retries reuse the operation's
// (client, seq), so the state machine applies a write at most once.
import type { NodeId } from "../../src/raft/types.ts";
import type { Cluster } from "./cluster.ts";
import type { KvCommand, KvResult } from "./kv-state-machine.ts";
import { encodeCommand } from "./kv-state-machine.ts";
import type { KvInput, KvOutput } from "./kv-model.ts";
import type { Operation } from "./linearizability.ts";
import type { NodeHost } from "./node-host.ts";
import type { Prng } from "./prng.ts";

export interface ClientOptions {
  keys: string[];
  /** Ticks without an answer before the same operation is sent again (maybe elsewhere). */
  retryTicks: number;
  /** Ticks after which the client gives up: a write's outcome becomes unknown. */
  timeoutTicks: number;
  /** Idle ticks between one operation's end and the next one's start. */
  thinkTicksMax: number;
  /** Share of operations that are gets; the rest are half puts, half CAS. */
  readShare: number;
}

interface Pending {
  seq: number;
  input: KvInput;
  callEvent: number;
  deadlineTick: number;
  nextAttemptTick: number;
  attempts: number;
}

export class SimClient {
  readonly id: number;
  private readonly cluster: Cluster;
  private readonly prng: Prng;
  private readonly opts: ClientOptions;
  private readonly history: Operation<KvInput, KvOutput>[];
  private readonly writtenValues: Map<string, string[]>;
  private seq = 0;
  pending: Pending | null = null;
  private nextStartTick = 0;
  private leaderHint: NodeId = "";
  /** Once false the client starts no new operations (the run is draining). */
  accepting = true;
  timedOut = 0;
  /** Gets completed, and how many of them on a read lease (no ReadIndex round). */
  readsCompleted = 0;
  leaseReads = 0;

  constructor(
    id: number,
    cluster: Cluster,
    prng: Prng,
    opts: ClientOptions,
    history: Operation<KvInput, KvOutput>[],
    writtenValues: Map<string, string[]>,
  ) {
    this.id = id;
    this.cluster = cluster;
    this.prng = prng;
    this.opts = opts;
    this.history = history;
    this.writtenValues = writtenValues;
  }

  step(nowTick: number): void {
    const p = this.pending;
    if (p === null) {
      if (this.accepting && nowTick >= this.nextStartTick) this.start(this.randomInput(), nowTick);
      return;
    }
    if (nowTick >= p.deadlineTick) return this.giveUp(p, nowTick);
    if (nowTick >= p.nextAttemptTick) this.attempt(p, nowTick);
  }

  /** Stop giving up: during the liveness phase every pending operation must complete. */
  waitForever(): void {
    this.accepting = false;
    if (this.pending !== null) this.pending.deadlineTick = Infinity;
  }

  start(input: KvInput, nowTick: number): void {
    const p: Pending = {
      seq: ++this.seq,
      input,
      callEvent: this.cluster.nextEvent(),
      deadlineTick: nowTick + this.opts.timeoutTicks,
      nextAttemptTick: nowTick,
      attempts: 0,
    };
    this.pending = p;
    if (input.kind !== "get") this.remember(input.key, input.value);
    this.log(`starts #${p.seq} ${describeInput(input)}`);
    this.attempt(p, nowTick);
  }

  private attempt(p: Pending, nowTick: number): void {
    const host = this.chooseReplica(p.input.kind);
    p.attempts++;
    p.nextAttemptTick = nowTick + this.opts.retryTicks;
    if (!host.up) {
      p.nextAttemptTick = nowTick + 2; // connection refused: try another soon
      return;
    }
    const outcome = p.input.kind === "get" ? this.sendRead(host, p) : this.sendWrite(host, p);
    if (outcome !== "ok") {
      this.log(`#${p.seq} attempt ${p.attempts} at ${host.id} refused: ${outcome}`);
      p.nextAttemptTick = nowTick + this.prng.range(1, 4);
    }
    const status = host.raw?.status();
    if (status !== undefined && status.leader !== "") this.leaderHint = status.leader;
  }

  private sendWrite(host: NodeHost, p: Pending): string {
    const input = p.input;
    if (input.kind === "get") throw new Error("sendWrite: a get");
    const cmd: KvCommand =
      input.kind === "put"
        ? { client: this.id, seq: p.seq, op: "put", key: input.key, value: input.value }
        : {
            client: this.id,
            seq: p.seq,
            op: "cas",
            key: input.key,
            expected: input.expected,
            value: input.value,
          };
    host.waitingWrites.set(`${this.id}.${p.seq}`, (result) =>
      this.complete(p.seq, writeOutput(result)),
    );
    const result = this.cluster.act(host, (raw) => raw.propose(encodeCommand(cmd)));
    this.log(`#${p.seq} attempt ${p.attempts}: propose at ${host.id}`);
    return result === undefined ? "down" : result.ok ? "ok" : result.reason;
  }

  private sendRead(host: NodeHost, p: Pending): string {
    const input = p.input;
    // As a replica would: the leader's lease first (every member is asked; only a leader may say
    // yes), served at once when the index is applied; otherwise a ReadIndex round.
    const leaseIndex = this.cluster.leaseRead(host);
    if (leaseIndex !== null && leaseIndex <= host.appliedIndex) {
      this.log(
        `#${p.seq} attempt ${p.attempts}: served at ${host.id} on its read lease (index ${leaseIndex}, applied ${host.appliedIndex})`,
      );
      this.leaseReads++;
      this.complete(p.seq, { kind: "get", value: host.machine.get(input.key) });
      return "ok";
    }
    const context = `read/${this.id}/${p.seq}/${p.attempts}`;
    host.pendingReads.set(context, {
      key: input.key,
      index: null,
      done: (value) => this.complete(p.seq, { kind: "get", value }),
    });
    const result = this.cluster.act(host, (raw) => raw.readIndex(context)) as
      | { ok: boolean; reason?: string }
      | undefined;
    this.log(`#${p.seq} attempt ${p.attempts}: readIndex at ${host.id} (${context})`);
    if (result === undefined) return "down";
    if (result.ok) return "ok";
    host.pendingReads.delete(context);
    return result.reason ?? "refused";
  }

  /** A response arrived (maybe for an earlier attempt, maybe a duplicate): the first one counts. */
  private complete(seq: number, output: KvOutput): void {
    const p = this.pending;
    if (p === null || p.seq !== seq) return;
    this.history.push({
      clientId: this.id,
      input: p.input,
      output,
      call: p.callEvent,
      return: this.cluster.nextEvent(),
    });
    if (output.kind === "get") this.readsCompleted++;
    if (output.kind === "get" && output.value !== null) this.remember(p.input.key, output.value);
    this.log(`#${seq} done: ${describeInput(p.input)} -> ${JSON.stringify(output)}`);
    this.pending = null;
    this.nextStartTick = this.cluster.nowTick + this.prng.range(0, this.opts.thinkTicksMax);
  }

  private giveUp(p: Pending, nowTick: number): void {
    this.timedOut++;
    // A read that timed out has no effect on state: leave it out. A write may still apply.
    if (p.input.kind !== "get")
      this.history.push({
        clientId: this.id,
        input: p.input,
        output: { kind: "unknown" },
        call: p.callEvent,
        return: Infinity,
      });
    this.log(`#${p.seq} timed out: ${describeInput(p.input)}`);
    this.pending = null;
    this.nextStartTick = nowTick + this.prng.range(0, this.opts.thinkTicksMax);
  }

  /**
   * Writes mostly go to the known leader. Reads go there a bit more often than not (its read lease
   * must be exercised), and often to followers, which ReadIndex must make safe.
   */
  private chooseReplica(kind: KvInput["kind"]): NodeHost {
    const hint = this.leaderHint === "" ? undefined : this.cluster.hosts.get(this.leaderHint);
    if (hint !== undefined && hint.up && this.prng.chance(kind === "get" ? 0.5 : 0.7)) return hint;
    return this.prng.pick([...this.cluster.hosts.values()].filter((h) => !h.destroyed));
  }

  private randomInput(): KvInput {
    const key = this.prng.pick(this.opts.keys);
    const roll = this.prng.next();
    const reads = this.opts.readShare;
    if (roll < reads) return { kind: "get", key };
    const value = `c${this.id}.${this.seq + 1}`;
    if (roll < reads + (1 - reads) / 2) return { kind: "put", key, value };
    return { kind: "cas", key, expected: this.expectedValue(key), value };
  }

  /** Mostly a value that is or was recently current, so that CAS often contends. */
  private expectedValue(key: string): string | null {
    const seen = this.writtenValues.get(key) ?? [];
    if (seen.length === 0 || this.prng.chance(0.15)) return null;
    return seen[Math.max(0, seen.length - 1 - this.prng.int(3))] as string;
  }

  private remember(key: string, value: string): void {
    let values = this.writtenValues.get(key);
    if (values === undefined) this.writtenValues.set(key, (values = []));
    values.push(value);
    if (values.length > 16) values.shift();
  }

  private log(text: string): void {
    if (this.cluster.trace.enabled) this.cluster.trace.log(`client ${this.id} ${text}`);
  }
}

function writeOutput(result: KvResult): KvOutput {
  return result.kind === "put" ? { kind: "put" } : { kind: "cas", ok: result.ok };
}

function describeInput(input: KvInput): string {
  if (input.kind === "get") return `get(${input.key})`;
  if (input.kind === "put") return `put(${input.key}, ${input.value})`;
  return `cas(${input.key}, ${String(input.expected)} => ${input.value})`;
}
