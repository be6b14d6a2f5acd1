// ReadIndex (§6.4 of Ongaro's thesis), batched per heartbeat round: a read records the commit
// index when it arrives, then waits for a round of heartbeats *sent after it arrived* to be
// acknowledged by a quorum, which proves no newer leader existed at arrival. One round at a
// time; reads arriving during a round ride on the next.
import type { NodeId } from "./types.ts";

export interface ReadRequest {
  /** Commit index when the read arrived. */
  index: number;
  /** The member that asked (the leader itself for a local read). */
  from: NodeId;
  context: string;
}

interface ReadRound {
  /** Carried by the round's heartbeats as `context` and echoed in their responses. */
  id: string;
  acks: Set<NodeId>;
  requests: ReadRequest[];
}

export class ReadOnly {
  private waiting: ReadRequest[] = [];
  private round: ReadRound | undefined = undefined;
  private roundsStarted = 0;
  /** Who acknowledged the last completed round, fastest first (the leader excluded). */
  private lastAckers: NodeId[] = [];

  constructor(private readonly term: number) {}

  get pendingCount(): number {
    return this.waiting.length + (this.round?.requests.length ?? 0);
  }

  /** Id of the round in flight, to stamp on heartbeats (so a lost ack is retried next beat). */
  get roundId(): string | undefined {
    return this.round?.id;
  }

  add(request: ReadRequest): void {
    this.waiting.push(request);
  }

  /** Starts a round if none is in flight and reads are waiting; returns its id to broadcast. */
  maybeStartRound(selfId: NodeId): string | undefined {
    if (this.round !== undefined || this.waiting.length === 0) return undefined;
    this.roundsStarted++;
    this.round = {
      id: `read/${this.term}/${this.roundsStarted}`,
      acks: new Set([selfId]),
      requests: this.waiting,
    };
    this.waiting = [];
    return this.round.id;
  }

  /** Records an ack of round `id` by `from`; returns the round's reads once `quorum` holds. */
  ack(id: string, from: NodeId, quorum: (acks: ReadonlySet<NodeId>) => boolean): ReadRequest[] {
    const round = this.round;
    if (round === undefined || round.id !== id) return [];
    round.acks.add(from);
    if (!quorum(round.acks)) return [];
    this.round = undefined;
    this.lastAckers = [...round.acks].slice(1); // the first ack is the leader's own
    return round.requests;
  }

  /** Members that completed the last round, in the order their acks arrived. */
  get fastestAckers(): readonly NodeId[] {
    return this.lastAckers;
  }
}
