// The simulated network: every message is an envelope with a delivery tick. Loss, duplication,
// delay (hence reordering) and partitions are decided by the seeded PRNG. Partitions are sets of
// blocked directed links, so asymmetric cuts (A hears B, B does not hear A) are expressible.
import type { Message, NodeId } from "../../src/raft/types.ts";
import type { Prng } from "./prng.ts";
import type { Trace } from "./trace.ts";

export interface LinkQuality {
  dropProbability: number;
  duplicateProbability: number;
  delayTicksMin: number;
  delayTicksMax: number;
  /** Rare long delays deliver messages from old terms long after they were sent. */
  longDelayProbability: number;
  longDelayTicksMax: number;
  /** False: messages due in the same tick arrive in the order they were sent (FIFO links). */
  reorder: boolean;
}

export const perfectLinks: LinkQuality = {
  dropProbability: 0,
  duplicateProbability: 0,
  delayTicksMin: 1,
  delayTicksMax: 1,
  longDelayProbability: 0,
  longDelayTicksMax: 1,
  reorder: false,
};

interface Envelope {
  message: Message;
  deliverAtTick: number;
}

export class Network {
  quality: LinkQuality = perfectLinks;
  private inFlight: Envelope[] = [];
  /** Messages due at `dueTick`, in send order. */
  private due: Message[] = [];
  private dueTick = -1;
  private readonly blocked = new Set<string>();
  private readonly prng: Prng;
  private readonly trace: Trace;
  sentCount = 0;
  droppedCount = 0;

  constructor(prng: Prng, trace: Trace) {
    this.prng = prng;
    this.trace = trace;
  }

  send(message: Message, nowTick: number): void {
    this.sentCount++;
    const copies = this.prng.chance(this.quality.duplicateProbability) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (
        this.isBlocked(message.from, message.to) ||
        this.prng.chance(this.quality.dropProbability)
      ) {
        this.droppedCount++;
        if (this.trace.enabled) this.trace.log(`drop ${describeMessage(message)}`);
        continue;
      }
      const deliverAtTick = nowTick + this.delayTicks();
      this.inFlight.push({ message, deliverAtTick });
      if (this.trace.enabled)
        this.trace.log(
          `send ${describeMessage(message)} at ${deliverAtTick}${i > 0 ? " (dup)" : ""}`,
        );
    }
  }

  /**
   * Removes and returns one due message: a random one among those due (reordering), or the
   * oldest when links are FIFO. Every delay is at least one tick, so messages sent while a tick's
   * deliveries run are never due in that same tick: one pass per tick finds all that are.
   */
  takeDue(nowTick: number): Message | undefined {
    if (nowTick !== this.dueTick) this.collectDue(nowTick);
    if (this.due.length === 0) return undefined;
    const at = this.quality.reorder ? this.prng.int(this.due.length) : 0;
    const [message] = this.due.splice(at, 1) as [Message];
    // A partition that started while the message was in flight also cuts it.
    if (this.isBlocked(message.from, message.to)) {
      this.droppedCount++;
      if (this.trace.enabled)
        this.trace.log(`drop ${describeMessage(message)} (partitioned in flight)`);
      return this.takeDue(nowTick);
    }
    return message;
  }

  private collectDue(nowTick: number): void {
    this.dueTick = nowTick;
    const later: Envelope[] = [];
    for (const e of this.inFlight) {
      if (e.deliverAtTick <= nowTick) this.due.push(e.message);
      else later.push(e);
    }
    this.inFlight = later;
  }

  inFlightCount(): number {
    return this.inFlight.length + this.due.length;
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.size > 0 && this.blocked.has(`${from}>${to}`);
  }

  block(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Cuts every link between the two groups, in both directions. */
  split(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) for (const y of b) this.block(x, y), this.block(y, x);
  }

  healPartitions(): void {
    this.blocked.clear();
  }

  describePartitions(): string {
    return [...this.blocked].sort().join(" ") || "none";
  }

  private delayTicks(): number {
    const q = this.quality;
    const ticks = this.prng.chance(q.longDelayProbability)
      ? this.prng.range(q.delayTicksMax, q.longDelayTicksMax)
      : this.prng.range(q.delayTicksMin, q.delayTicksMax);
    return Math.max(1, ticks);
  }
}

export function describeMessage(m: Message): string {
  const parts = [`${m.from}->${m.to} ${m.type} t${m.term}`];
  if (m.index !== undefined) parts.push(`i${m.index}`);
  if (m.logTerm !== undefined) parts.push(`lt${m.logTerm}`);
  if (m.entries !== undefined && m.entries.length > 0)
    parts.push(`e[${m.entries[0]?.index}..${m.entries[m.entries.length - 1]?.index}]`);
  if (m.commit !== undefined) parts.push(`c${m.commit}`);
  if (m.reject) parts.push(`reject(hint ${m.rejectHint})`);
  if (m.snapshot !== undefined)
    parts.push(
      `snap@${m.snapshot.metadata.index} off${m.snapshot.offset}${m.snapshot.done ? " done" : ""}`,
    );
  if (m.quiesce) parts.push("quiesce");
  if (m.context !== undefined) parts.push(`ctx=${m.context}`);
  return parts.join(" ");
}
