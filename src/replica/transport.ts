// Peer-to-peer messaging over DO RPC: one link per peer with two lanes. The data lane carries
// appends with entries, votes, snapshots (at most `rpcsInFlightMax` RPCs in flight); messages
// produced while it is busy queue up and leave together in the next RPC, so under load a round
// carries many proposals and acks in one request. Control messages (heartbeats, commit-only
// appends) ride along with an append when one is on the wire or leaving; otherwise they take the
// control lane (`controlRpcsInFlightMax`), never a data slot: on a WAN link each is on the wire for
// a whole round trip, and a proposal must not wait behind one (bench: commit p50 1.2–1.5x the
// quorum RTT before). Under load appends are always in flight, so control costs no extra request.
//
// A response travels back as the RPC's return value (the peer's messages addressed to us), so a
// round costs one request, not two. Failed RPCs are not retried: Raft resends what matters on the
// next heartbeat or probe, and an overloaded peer must not be hammered.
import type { Message, NodeId } from "../raft/index.ts";
import type { Faults } from "./faults.ts";
import type { ReplicaStats } from "./stats.ts";
import type { Envelope, ReplyEnvelope } from "./wire.ts";

export interface PeerEndpoint {
  deliver(envelope: Envelope): Promise<ReplyEnvelope>;
}

export interface TransportHost {
  endpoint(peer: NodeId): PeerEndpoint;
  envelope(peer: NodeId, messages: Message[]): Envelope;
  /** The peer's answer: step it into the core. Called after an await: re-checks are the host's. */
  onReply(reply: ReplyEnvelope): void;
  onUnreachable(peer: NodeId, error: unknown): void;
  faults(): Faults;
  stats: ReplicaStats;
  /** Data-lane RPCs (appends with entries, votes, snapshots) in flight to one peer. */
  rpcsInFlightMax: number;
  /** RPCs carrying only control messages (heartbeats, commit-only appends), in flight to one peer. */
  controlRpcsInFlightMax: number;
  rpcTimeoutMs: number;
  /** Payload bytes (entries, snapshot chunks) in one RPC; DO RPC messages are limited to ~32 MiB. */
  rpcBytesMax: number;
}

/**
 * An append with no entries only moves the follower's commit index forward. It can wait for the
 * next message to that peer (or the next tick): commit then piggybacks on the next append instead
 * of costing a request of its own.
 */
function deferrable(m: Message): boolean {
  return m.type === "app" && (m.entries?.length ?? 0) === 0;
}

/** Heartbeats and commit-only appends: small, and never worth holding a proposal back for. */
const isControl = (m: Message) => m.type === "heartbeat" || deferrable(m);

class PeerLink {
  queue: Message[] = [];
  /** RPCs in flight on the data lane and on the control lane. */
  dataInFlight = 0;
  controlInFlight = 0;

  constructor(
    readonly peer: NodeId,
    private readonly host: TransportHost,
  ) {}

  enqueue(messages: Message[]): void {
    this.queue.push(...messages);
    if (messages.some((m) => !deferrable(m))) this.pump();
  }

  /** Sends whatever is queued, deferrable messages included (at a tick, or before sleeping). */
  flush(): void {
    this.pump();
  }

  /** Hands queued messages (up to one RPC's worth) to a reply already on its way to this peer. */
  take(): Message[] {
    return this.queue.splice(0, batchLength(this.queue, this.host.rpcBytesMax));
  }

  /** No append on the wire to this peer: a proposal made now would leave at once. */
  get idle(): boolean {
    return this.dataInFlight === 0;
  }

  private pump(): void {
    const { rpcsInFlightMax, controlRpcsInFlightMax, rpcBytesMax } = this.host;
    while (this.queue.length > 0) {
      if (!this.queue.every(isControl) && this.dataInFlight < rpcsInFlightMax) {
        // Control messages queued here ride along for free.
        this.send(this.queue.splice(0, batchLength(this.queue, rpcBytesMax)), "data");
      } else if (
        this.dataInFlight === 0 &&
        this.controlInFlight < controlRpcsInFlightMax &&
        this.queue.some(isControl)
      ) {
        this.send(this.queue.filter(isControl), "control");
        this.queue = this.queue.filter((m) => !isControl(m));
      } else {
        return;
      }
    }
  }

  private send(batch: Message[], lane: "data" | "control"): void {
    if (lane === "data") this.dataInFlight++;
    else this.controlInFlight++;
    void this.rpc(batch).finally(() => {
      if (lane === "data") this.dataInFlight--;
      else this.controlInFlight--;
      if (this.queue.some((m) => !deferrable(m))) this.pump();
    });
  }

  private async rpc(batch: Message[]): Promise<void> {
    const { host, peer } = this;
    host.stats.rpcsSent++;
    host.stats.messagesSent += batch.length;
    try {
      const delayMs = host.faults().delayMsByPeer[peer] ?? 0;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (host.faults().dropOutbound)
        throw new Error(`outbound messages to ${peer} dropped (fault injection)`);
      // A late reply after the timeout is dropped: Raft resends whatever it still needs.
      const reply = await withDeadline(
        host.endpoint(peer).deliver(host.envelope(peer, batch)),
        host.rpcTimeoutMs,
        peer,
      );
      if (reply.refused !== undefined) throw new Error(reply.refused);
      host.onReply(reply);
    } catch (error) {
      host.stats.rpcsFailed++;
      try {
        host.onUnreachable(peer, error);
      } catch (inner) {
        console.error(`handling the failed RPC to ${peer} failed`, inner);
      }
    }
  }
}

export class Transport {
  readonly #links = new Map<NodeId, PeerLink>();

  constructor(private readonly host: TransportHost) {}

  send(messages: Message[]): void {
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      const list = byPeer.get(m.to);
      if (list) list.push(m);
      else byPeer.set(m.to, [m]);
    }
    for (const [peer, list] of byPeer) this.#link(peer).enqueue(list);
  }

  /** Messages queued for `peer`, removed from the queue (they ride on a reply instead). */
  take(peer: NodeId): Message[] {
    return this.#links.get(peer)?.take() ?? [];
  }

  flushAll(): void {
    for (const link of this.#links.values()) link.flush();
  }

  /** True when some peer has no append in flight: a new round could leave at once. */
  anyIdle(peers: readonly NodeId[]): boolean {
    return peers.some((p) => this.#links.get(p)?.idle ?? true);
  }

  #link(peer: NodeId): PeerLink {
    let link = this.#links.get(peer);
    if (!link) {
      link = new PeerLink(peer, this.host);
      this.#links.set(peer, link);
    }
    return link;
  }
}

/** How many queued messages fit in one RPC: at least one, then up to `bytesMax` of payload. */
function batchLength(queue: readonly Message[], bytesMax: number): number {
  let bytes = 0;
  for (let i = 0; i < queue.length; i++) {
    const m = queue[i]!;
    bytes +=
      (m.entries ?? []).reduce((n, e) => n + e.data.byteLength, 0) +
      (m.snapshot?.data.byteLength ?? 0);
    if (i > 0 && bytes > bytesMax) return i;
  }
  return queue.length;
}

function withDeadline<T>(promise: Promise<T>, timeoutMs: number, peer: NodeId): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`peer ${peer} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
