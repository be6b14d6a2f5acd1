// InstallSnapshot in chunks (§7): the leader streams `storage.snapshot()` to a follower whose
// next entry is compacted, one chunk of ≤ snapshotChunkBytesMax in flight, resending the
// unacknowledged chunk each heartbeat round; the follower assembles the chunks in order and
// installs the snapshot once the last one arrives.
import type { Progress } from "./progress.ts";
import type { Raft } from "./raft.ts";
import type { Message, NodeId, SnapshotMetadata } from "./types.ts";

/** Follower: a snapshot being assembled. */
export interface SnapshotReceive {
  from: NodeId;
  term: number;
  metadata: SnapshotMetadata;
  parts: Uint8Array[];
  received: number;
}

export function sendSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  // Do not stream megabytes to a member that may be down; its next answer restarts this.
  if (!r.trk.recentlyActive(to, r.id, r.cfg.electionTimeoutTicks)) return false;
  const snapshot = r.log.snapshot();
  if (snapshot.metadata.index === 0) return false; // nothing to send: bootstrap() was not called
  pr.becomeSnapshot(snapshot);
  sendSnapshotChunk(r, to, pr);
  return true;
}

export function sendSnapshotChunk(r: Raft, to: NodeId, pr: Progress): void {
  const send = pr.snapshotSend;
  if (send === undefined) return;
  // A paced learner's budget for this tick is spent: the chunk leaves at the next tick.
  send.owed = pr.budgetBytes <= 0;
  if (send.owed) return;
  const { metadata, data } = send.snapshot;
  const offset = Math.min(send.offset, data.byteLength);
  const chunkBytes = Math.min(r.cfg.snapshotChunkBytesMax, pr.budgetBytes);
  const end = Math.min(offset + chunkBytes, data.byteLength);
  pr.budgetBytes -= end - offset;
  r.send({
    type: "snap",
    to,
    snapshot: { metadata, offset, data: data.subarray(offset, end), done: end === data.byteLength },
  });
}

/** Leader: the follower holds `snapshotOffset` bytes; send the next chunk. */
export function handleSnapshotResponse(r: Raft, m: Message): void {
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) return;
  r.trk.heardFrom(m.from);
  const send = pr.snapshotSend;
  if (pr.state !== "snapshot" || send === undefined || send.snapshot.metadata.index !== m.index)
    return;
  send.acked = true;
  send.offset = m.snapshotOffset ?? 0;
  sendSnapshotChunk(r, m.from, pr);
}

/** Leader, each heartbeat round: resend a chunk that was not acknowledged (it may be lost). */
export function resendStalledSnapshots(r: Raft): void {
  for (const [id, pr] of r.trk.progress) {
    const send = pr.snapshotSend;
    if (id === r.id || pr.state !== "snapshot" || send === undefined) continue;
    if (!send.acked) sendSnapshotChunk(r, id, pr);
    send.acked = false;
  }
}

/** Follower: one chunk arrived from the leader. */
export function handleSnapshotChunk(r: Raft, m: Message): void {
  const chunk = m.snapshot;
  if (chunk === undefined) return;
  const meta = chunk.metadata;
  if (meta.index <= r.log.committed) {
    // We already have everything the snapshot holds; let the leader move on.
    r.incomingSnapshot = undefined;
    r.send({ type: "appResp", to: m.from, index: r.log.committed });
    return;
  }
  let rx = r.incomingSnapshot;
  const same =
    rx !== undefined &&
    rx.from === m.from &&
    rx.term === m.term &&
    rx.metadata.index === meta.index &&
    rx.metadata.term === meta.term;
  if (!same) {
    rx =
      chunk.offset === 0
        ? { from: m.from, term: m.term, metadata: meta, parts: [], received: 0 }
        : undefined;
    r.incomingSnapshot = rx;
  }
  if (rx === undefined) {
    r.send({ type: "snapResp", to: m.from, index: meta.index, snapshotOffset: 0 });
    return;
  }
  if (chunk.offset === rx.received) {
    rx.parts.push(chunk.data.slice()); // copy: the sender's buffer is not ours to keep
    rx.received += chunk.data.byteLength;
    if (chunk.done) return installSnapshot(r, m.from, rx);
  }
  r.send({ type: "snapResp", to: m.from, index: meta.index, snapshotOffset: rx.received });
}

function installSnapshot(r: Raft, from: NodeId, rx: SnapshotReceive): void {
  r.incomingSnapshot = undefined;
  const data = new Uint8Array(rx.received);
  let at = 0;
  for (const part of rx.parts) {
    data.set(part, at);
    at += part.byteLength;
  }
  const snapshot = { metadata: rx.metadata, data };
  if (r.log.matchTerm(snapshot.metadata.index, snapshot.metadata.term)) {
    // Our log already holds the snapshot's last entry: keep the log, just learn the commit.
    r.commitTo(snapshot.metadata.index);
  } else {
    r.log.restore(snapshot);
    r.confLog.reset(snapshot.metadata.conf);
    r.syncConf();
  }
  // Claim only the snapshot's index: entries after it in our log may still conflict.
  r.send({ type: "appResp", to: from, index: snapshot.metadata.index });
}
