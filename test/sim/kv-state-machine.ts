// The replicated state machine the simulated clients drive: a KV map plus one session per client
// (Raft thesis §6.3) so that a retried or duplicated proposal applies at most once. Its snapshot
// carries the index it was taken at, so a restore at the wrong index is detected.
import type { ConfState } from "../../src/raft/types.ts";

export type KvCommand =
  | { client: number; seq: number; op: "put"; key: string; value: string }
  | { client: number; seq: number; op: "cas"; key: string; expected: string | null; value: string };

export type KvResult = { kind: "put" } | { kind: "cas"; ok: boolean };

interface Session {
  seq: number;
  result: KvResult;
}

interface SnapshotBody {
  index: number;
  conf: ConfState;
  values: [string, string][];
  sessions: [number, Session][];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(cmd: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(cmd));
}

export function decodeCommand(data: Uint8Array): KvCommand {
  return JSON.parse(decoder.decode(data)) as KvCommand;
}

export class KvStateMachine {
  appliedIndex = 0;
  private values = new Map<string, string>();
  private sessions = new Map<number, Session>();

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  /**
   * Applies a command; returns its result, the cached result for a duplicate, or null for a
   * command older than the client's latest (the client has moved on; it must not take effect).
   */
  apply(index: number, cmd: KvCommand): KvResult | null {
    this.appliedIndex = index;
    const session = this.sessions.get(cmd.client);
    if (session !== undefined && cmd.seq < session.seq) return null;
    if (session !== undefined && cmd.seq === session.seq) return session.result;
    const result = this.execute(cmd);
    this.sessions.set(cmd.client, { seq: cmd.seq, result });
    return result;
  }

  private execute(cmd: KvCommand): KvResult {
    if (cmd.op === "put") {
      this.values.set(cmd.key, cmd.value);
      return { kind: "put" };
    }
    const ok = this.get(cmd.key) === cmd.expected;
    if (ok) this.values.set(cmd.key, cmd.value);
    return { kind: "cas", ok };
  }

  snapshot(conf: ConfState): Uint8Array {
    const body: SnapshotBody = {
      index: this.appliedIndex,
      conf,
      values: [...this.values].sort(([a], [b]) => (a < b ? -1 : 1)),
      sessions: [...this.sessions].sort(([a], [b]) => a - b),
    };
    return encoder.encode(JSON.stringify(body));
  }

  /** Empty data (no snapshot yet, or the bootstrap snapshot) restores the initial state at `index`. */
  static restore(
    data: Uint8Array,
    index: number,
  ): { machine: KvStateMachine; index: number; conf: ConfState | null } {
    const machine = new KvStateMachine();
    machine.appliedIndex = index;
    if (data.length === 0) return { machine, index, conf: null };
    const body = JSON.parse(decoder.decode(data)) as SnapshotBody;
    machine.appliedIndex = body.index;
    machine.values = new Map(body.values);
    machine.sessions = new Map(body.sessions);
    return { machine, index: body.index, conf: body.conf };
  }
}
