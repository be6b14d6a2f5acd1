// Raft's safety properties (Figure 3 of the paper), checked incrementally as the simulation runs:
// each check looks only at what the last step changed, so checking after every step stays cheap.
// Records are global and survive crashes: a property holds over the whole run, not per process.
import type { Entry, Message, NodeId, Ready, Snapshot } from "../../src/raft/types.ts";
import type { NodeStatus } from "./core.ts";
import type { NodeHost } from "./node-host.ts";

export class SafetyViolation extends Error {
  readonly invariant: string;
  constructor(invariant: string, detail: string) {
    super(`${invariant} violated: ${detail}`);
    this.name = "SafetyViolation";
    this.invariant = invariant;
  }
}

interface LogRecord {
  dataKey: string;
  /** Term of the entry before it, where the writer's log still had it. */
  prevTerm: number | undefined;
}

/** Per-member facts that outlive crashes (they are about messages already sent). */
interface MemberRecord {
  /** Highest index this member acknowledged (appResp) in `ackedTerm`. */
  ackedTerm: number;
  ackedIndex: number;
  /** Leader Completeness: committed indexes already verified in this member's log as leader of `checkedTerm`. */
  checkedTerm: number;
  checkedUpTo: number;
}

const decoder = new TextDecoder();

/** The context of (pre)vote requests a leadership transfer sends (src/raft/election.ts). */
const transferContext = "raft/transfer";

export function entryKey(e: Entry): string {
  return `${e.term}/${e.type}/${decoder.decode(e.data)}`;
}

export class Invariants {
  private readonly hosts: ReadonlyMap<NodeId, NodeHost>;
  private readonly leaderByTerm = new Map<number, NodeId>();
  /** index -> term of the entry committed there. */
  private readonly committedTerms = new Map<number, number>();
  /**
   * index -> term in which it was first seen committed (the committing leader's term). Leader
   * Completeness only promises entries committed in *earlier* terms to a leader.
   */
  private readonly commitTerms = new Map<number, number>();
  private committedMax = 0;
  /** index -> entryKey of what was applied there, by anyone. */
  private readonly applied = new Map<number, string>();
  /** `${index}:${term}` -> what every log holding that entry must agree on. */
  private readonly logRecords = new Map<string, LogRecord>();
  private readonly members = new Map<NodeId, MemberRecord>();
  /**
   * Read leases: per member, the end (by its own clock) of the longest promise its heartbeat
   * answers gave: no (pre)vote granted and no campaign before it. Survives crashes, as the
   * promise must.
   */
  private readonly promisedUntil = new Map<NodeId, number>();
  /** The same promises, less those a member gave up by granting a transfer's vote: what a lease may rest on. */
  private readonly backingUntil = new Map<NodeId, number>();
  /** `${term}/${candidate}` of campaigns a leadership transfer started: their votes override promises (§3.10). */
  private readonly transferCampaigns = new Set<string>();
  /** The highest term anyone was leader in, and who. */
  private newestLeaderTerm = 0;
  private newestLeader: NodeId = "";
  stepsChecked = 0;

  constructor(hosts: ReadonlyMap<NodeId, NodeHost>) {
    this.hosts = hosts;
  }

  // --- Ready handling: before the harness persists it ---------------------------------------

  beforePersist(host: NodeHost, rd: Ready, status: NodeStatus): void {
    const newTerm = rd.hardState?.term ?? host.persistedHardState.term;
    if (rd.snapshot !== undefined) this.checkSnapshotInstall(host, rd.snapshot, status, newTerm);
    if (rd.entries.length > 0) this.checkTruncation(host, rd.entries, status, newTerm);
  }

  private checkSnapshotInstall(
    host: NodeHost,
    snap: Snapshot,
    status: NodeStatus,
    newTerm: number,
  ): void {
    const at = snap.metadata.index;
    if (status.role === "leader") {
      throw new SafetyViolation(
        "Leader Append-Only",
        `leader ${host.id} (term ${status.term}) replaces its log with a snapshot at ${at}`,
      );
    }
    if (at < host.persistedHardState.commit) {
      throw new SafetyViolation(
        "State Machine Safety",
        `${host.id} installs a snapshot at ${at}, behind its commit ${host.persistedHardState.commit}`,
      );
    }
    const m = this.member(host.id);
    if (m.ackedTerm === newTerm && at < m.ackedIndex) {
      throw new SafetyViolation(
        "Log Matching",
        `${host.id} acknowledged index ${m.ackedIndex} in term ${newTerm}, then installs a snapshot at ${at} that drops it`,
      );
    }
    this.recordCommitted(host.id, at, snap.metadata.term, "snapshot", newTerm);
  }

  /** Entries that replace existing ones: allowed only for uncommitted, unacknowledged followers' entries. */
  private checkTruncation(
    host: NodeHost,
    entries: Entry[],
    status: NodeStatus,
    newTerm: number,
  ): void {
    const storage = host.storage;
    const first = (entries[0] as Entry).index;
    const oldLast = storage.lastIndex();
    if (first > oldLast) return;
    if (first <= storage.firstIndex() - 1) {
      throw new SafetyViolation(
        "Log Matching",
        `${host.id} appends at ${first}, inside its compacted prefix (snapshot ${storage.firstIndex() - 1})`,
      );
    }
    const newLast = first + entries.length - 1;
    let cut = newLast < oldLast ? newLast + 1 : Infinity;
    for (let i = first; i <= Math.min(oldLast, newLast); i++) {
      if (storage.term(i) !== (entries[i - first] as Entry).term) {
        cut = i;
        break;
      }
    }
    if (cut === Infinity) return;
    if (status.role === "leader") {
      throw new SafetyViolation(
        "Leader Append-Only",
        `leader ${host.id} (term ${status.term}) overwrites its log from index ${cut}`,
      );
    }
    if (cut <= host.persistedHardState.commit) {
      throw new SafetyViolation(
        "State Machine Safety",
        `${host.id} overwrites committed index ${cut} (its commit is ${host.persistedHardState.commit})`,
      );
    }
    const m = this.member(host.id);
    if (m.ackedTerm === newTerm && cut <= m.ackedIndex) {
      throw new SafetyViolation(
        "Log Matching",
        `${host.id} acknowledged index ${m.ackedIndex} to the leader of term ${newTerm}, then overwrites it from ${cut} in the same term`,
      );
    }
  }

  // --- Ready handling: after persisting, before sending ---------------------------------------

  afterPersist(
    host: NodeHost,
    rd: Ready,
    before: { term: number; vote: NodeId; commit: number },
    status: NodeStatus,
    previousConf: NodeStatus["conf"],
  ): void {
    const hs = host.persistedHardState;
    if (hs.term < before.term)
      throw new SafetyViolation(
        "Election Safety",
        `${host.id}'s persisted term went back from ${before.term} to ${hs.term}`,
      );
    if (hs.term === before.term && before.vote !== "" && hs.vote !== before.vote) {
      throw new SafetyViolation(
        "Election Safety",
        `${host.id} changed its vote in term ${hs.term} from ${before.vote} to ${hs.vote}`,
      );
    }
    if (hs.commit < before.commit)
      throw new SafetyViolation(
        "State Machine Safety",
        `${host.id}'s persisted commit went back from ${before.commit} to ${hs.commit}`,
      );
    if (hs.commit > host.storage.lastIndex()) {
      throw new SafetyViolation(
        "Log Matching",
        `${host.id} persisted commit ${hs.commit} beyond its last index ${host.storage.lastIndex()}`,
      );
    }
    this.checkLogMatching(host, rd.entries);
    // A leader may commit and step down in the same step (e.g. it committed its own removal).
    const ledInTerm =
      status.role === "leader" || (host.lastRole === "leader" && host.lastTerm === hs.term);
    if (hs.commit > before.commit)
      this.checkCommitAdvance(host, before.commit, ledInTerm ? hs.term : 0, status, previousConf);
    for (const m of rd.messages) this.checkMessageDurable(host, m);
  }

  /** Every log holding (index, term) must hold the same data there and the same term before it. */
  private checkLogMatching(host: NodeHost, entries: Entry[]): void {
    const storage = host.storage;
    let prevTerm: number | undefined;
    for (const e of entries) {
      if (prevTerm === undefined)
        prevTerm = e.index - 1 >= storage.firstIndex() - 1 ? storage.term(e.index - 1) : undefined;
      const key = `${e.index}:${e.term}`;
      const dataKey = entryKey(e);
      const seen = this.logRecords.get(key);
      if (seen === undefined) {
        this.logRecords.set(key, { dataKey, prevTerm });
      } else {
        if (seen.dataKey !== dataKey) {
          throw new SafetyViolation(
            "Log Matching",
            `${host.id} holds a different entry at index ${e.index} term ${e.term} than another log`,
          );
        }
        if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
          throw new SafetyViolation(
            "Log Matching",
            `${host.id} holds (${e.index}, term ${e.term}) after an entry of term ${prevTerm}; another log has term ${seen.prevTerm} there`,
          );
        }
        if (seen.prevTerm === undefined) seen.prevTerm = prevTerm;
      }
      prevTerm = e.term;
    }
  }

  /** `leaderTerm`: the term this member led in during the step, 0 if it did not lead. */
  private checkCommitAdvance(
    host: NodeHost,
    from: number,
    leaderTerm: number,
    status: NodeStatus,
    previousConf: NodeStatus["conf"],
  ): void {
    const storage = host.storage;
    const to = host.persistedHardState.commit;
    for (let i = Math.max(from + 1, storage.firstIndex()); i <= to; i++) {
      this.recordCommitted(
        host.id,
        i,
        storage.term(i),
        leaderTerm > 0 ? "leader" : "follower",
        host.persistedHardState.term,
      );
    }
    if (leaderTerm > 0) this.checkLeaderCommit(host, to, leaderTerm, status, previousConf);
  }

  /** Raft §5.4.2: a leader commits by counting replicas only entries of its own term, on a quorum. */
  private checkLeaderCommit(
    host: NodeHost,
    index: number,
    leaderTerm: number,
    status: NodeStatus,
    previousConf: NodeStatus["conf"],
  ): void {
    const term = host.storage.term(index);
    if (term !== leaderTerm) {
      throw new SafetyViolation(
        "Leader Completeness",
        `leader ${host.id} of term ${leaderTerm} advanced its commit to ${index}, an entry of term ${term} (only entries of the current term may be committed by counting replicas)`,
      );
    }
    const holders = new Set<NodeId>();
    for (const h of this.hosts.values()) if (holdsEntry(h, index, term)) holders.add(h.id);
    const quorumIn = (voters: NodeId[]) =>
      voters.filter((v) => holders.has(v)).length > voters.length / 2;
    if (!quorumIn(status.conf.voters) && !quorumIn(previousConf.voters)) {
      throw new SafetyViolation(
        "Leader Completeness",
        `leader ${host.id} of term ${term} committed index ${index}, held only by [${[...holders].join(", ")}] of voters [${status.conf.voters.join(", ")}]`,
      );
    }
  }

  private recordCommitted(
    id: NodeId,
    index: number,
    term: number,
    by: string,
    inTerm: number,
  ): void {
    if (index === 0) return;
    const known = this.committedTerms.get(index);
    if (known === undefined) {
      if (by === "follower" && index > this.committedMax) {
        throw new SafetyViolation(
          "State Machine Safety",
          `${id} considers index ${index} committed before any leader committed it`,
        );
      }
      this.committedTerms.set(index, term);
      this.commitTerms.set(index, inTerm);
      if (index > this.committedMax) this.committedMax = index;
    } else if (known !== term) {
      throw new SafetyViolation(
        "State Machine Safety",
        `${id} (${by}) commits index ${index} with term ${term}, but term ${known} was committed there before`,
      );
    }
  }

  /** The Ready contract: a message may only promise what its sender has already persisted. */
  private checkMessageDurable(host: NodeHost, m: Message): void {
    const hs = host.persistedHardState;
    if (m.type !== "preVote" && m.type !== "preVoteResp" && m.term > hs.term) {
      throw new SafetyViolation(
        "Persist before send",
        `${host.id} sends ${m.type} with term ${m.term} but persisted term ${hs.term}`,
      );
    }
    if (m.type === "voteResp" && m.reject !== true && (hs.term !== m.term || hs.vote !== m.to)) {
      throw new SafetyViolation(
        "Persist before send",
        `${host.id} grants its vote in term ${m.term} to ${m.to} but persisted (term ${hs.term}, vote "${hs.vote}")`,
      );
    }
    if (m.type === "appResp" && m.reject !== true && m.index !== undefined) {
      if (m.index > host.storage.lastIndex()) {
        throw new SafetyViolation(
          "Persist before send",
          `${host.id} acknowledges index ${m.index} but persisted only up to ${host.storage.lastIndex()}`,
        );
      }
      const rec = this.member(host.id);
      if (rec.ackedTerm !== m.term) (rec.ackedTerm = m.term), (rec.ackedIndex = 0);
      rec.ackedIndex = Math.max(rec.ackedIndex, m.index);
    }
  }

  /**
   * Read leases, the follower's side (lease.ts): a member that answers a heartbeat (`sentAtMs`
   * echoed, which renews the leader's lease) promises to grant no (pre)vote and start no campaign
   * before its clock reads now + voteRefusalMs, except for a leadership transfer's campaign.
   * - Vote Promise: no message of this Ready grants a vote or campaigns while a promise stands,
   *   crashes notwithstanding.
   * - Persist before send: the promise is durable before the answer leaves (a restart must not
   *   forget it).
   * Called after persisting, before sending, with the member's clock at this step.
   */
  checkPromises(host: NodeHost, rd: Ready, nowMs: number, voteRefusalMs: number): void {
    if (voteRefusalMs <= 0) return;
    for (const m of rd.messages) {
      if ((m.type !== "vote" && m.type !== "preVote") || m.context !== transferContext) continue;
      // A transfer's candidate votes for itself whatever it promised (§3.10).
      this.transferCampaigns.add(`${m.term}/${m.from}`);
      this.backingUntil.delete(host.id);
    }
    const until = this.promisedUntil.get(host.id) ?? Number.NEGATIVE_INFINITY;
    for (const m of rd.messages) {
      const campaigns =
        (m.type === "vote" || m.type === "preVote") && m.context !== transferContext;
      const granted = (m.type === "voteResp" || m.type === "preVoteResp") && m.reject !== true;
      const grants = granted && !this.transferCampaigns.has(`${m.term}/${m.to}`);
      // A transfer's vote breaks the promise (§3.10); the leader that began it gave its lease up.
      if (granted && !grants) this.backingUntil.delete(host.id);
      if ((campaigns || grants) && nowMs < until) {
        const what = campaigns
          ? `campaigns (${m.type} to ${m.to}, term ${m.term})`
          : `grants its ${m.type === "voteResp" ? "vote" : "pre-vote"} to ${m.to} in term ${m.term}`;
        throw new SafetyViolation(
          "Vote Promise",
          `${host.id} ${what} ${(until - nowMs).toFixed(1)} ms before the promise its heartbeat answers gave ends (by its clock)`,
        );
      }
    }
    for (const m of rd.messages) {
      if (m.type !== "heartbeatResp" || m.sentAtMs === undefined) continue;
      const durable = host.votePromiseUntilMs ?? Number.NEGATIVE_INFINITY;
      if (durable < nowMs + voteRefusalMs) {
        throw new SafetyViolation(
          "Persist before send",
          `${host.id} answers ${m.to}'s heartbeat (renewing its read lease) promising no vote for ${voteRefusalMs} ms, but its persisted promise ends ${durable === Number.NEGATIVE_INFINITY ? "never written" : `${(nowMs + voteRefusalMs - durable).toFixed(1)} ms too early`}`,
        );
      }
      if (nowMs + voteRefusalMs > (this.promisedUntil.get(host.id) ?? Number.NEGATIVE_INFINITY))
        this.promisedUntil.set(host.id, nowMs + voteRefusalMs);
      if (nowMs + voteRefusalMs > (this.backingUntil.get(host.id) ?? Number.NEGATIVE_INFINITY))
        this.backingUntil.set(host.id, nowMs + voteRefusalMs);
    }
  }

  /**
   * Lease Safety (§6.4.1 of Ongaro's thesis), checked on every index the core offers for a lease
   * read. Stronger than the linearizability check, which needs a client to observe a stale value:
   * - the lease rests on promises: a majority of the leader's voters (itself included) are bound,
   *   right now by their own clocks, by a promise not to vote (checkPromises) that no transfer's
   *   vote released;
   * - so no member has led a newer term yet, and the read index covers everything committed.
   * `clockOf`: a member's clock reading now.
   */
  onLeaseRead(
    host: NodeHost,
    status: NodeStatus,
    index: number,
    clockOf: (id: NodeId) => number,
  ): void {
    if (status.role !== "leader") {
      throw new SafetyViolation(
        "Lease Safety",
        `${host.id} offers lease read index ${index} as ${status.role} of term ${status.term}`,
      );
    }
    if (this.newestLeaderTerm > status.term) {
      throw new SafetyViolation(
        "Lease Safety",
        `${host.id}, leader of term ${status.term}, serves a read on its lease (index ${index}) after ${this.newestLeader} was elected leader of term ${this.newestLeaderTerm}`,
      );
    }
    if (index < this.committedMax) {
      throw new SafetyViolation(
        "Lease Safety",
        `${host.id}, leader of term ${status.term}, serves a read on its lease at index ${index}, behind index ${this.committedMax} committed already`,
      );
    }
    const voters = status.conf.voters;
    const bound = voters.filter(
      (id) =>
        id === host.id || clockOf(id) < (this.backingUntil.get(id) ?? Number.NEGATIVE_INFINITY),
    );
    if (bound.length <= voters.length / 2) {
      throw new SafetyViolation(
        "Lease Safety",
        `${host.id}, leader of term ${status.term}, serves a read on its lease (index ${index}), but only [${bound.join(", ")}] of voters [${voters.join(", ")}] are bound by a promise not to vote now`,
      );
    }
  }

  // --- Applying -------------------------------------------------------------------------------

  onApply(host: NodeHost, e: Entry): void {
    if (e.index !== host.appliedIndex + 1) {
      throw new SafetyViolation(
        "State Machine Safety",
        `${host.id} applies index ${e.index} after ${host.appliedIndex} (must be in order, no gaps)`,
      );
    }
    if (e.index > host.persistedHardState.commit) {
      throw new SafetyViolation(
        "State Machine Safety",
        `${host.id} applies index ${e.index} beyond its commit ${host.persistedHardState.commit}`,
      );
    }
    const committedTerm = this.committedTerms.get(e.index);
    if (committedTerm !== e.term) {
      throw new SafetyViolation(
        "State Machine Safety",
        `${host.id} applies (${e.index}, term ${e.term}) but the entry committed there has term ${committedTerm ?? "(none committed)"}`,
      );
    }
    const key = entryKey(e);
    const seen = this.applied.get(e.index);
    if (seen === undefined) this.applied.set(e.index, key);
    else if (seen !== key)
      throw new SafetyViolation(
        "State Machine Safety",
        `${host.id} applies a different entry at index ${e.index} than another member`,
      );
  }

  onSnapshotRestore(host: NodeHost, snap: Snapshot, machineIndex: number): void {
    if (machineIndex !== snap.metadata.index) {
      throw new SafetyViolation(
        "State Machine Safety",
        `${host.id} restores a snapshot labelled index ${snap.metadata.index} holding the state machine at index ${machineIndex}`,
      );
    }
    if (snap.metadata.index < host.appliedIndex) {
      throw new SafetyViolation(
        "State Machine Safety",
        `${host.id} restores a snapshot at ${snap.metadata.index}, behind its applied index ${host.appliedIndex}`,
      );
    }
  }

  // --- After every step -----------------------------------------------------------------------

  checkNode(host: NodeHost, status: NodeStatus): void {
    this.stepsChecked++;
    if (status.role !== "leader") return;
    if (status.term > this.newestLeaderTerm)
      (this.newestLeaderTerm = status.term), (this.newestLeader = host.id);
    const known = this.leaderByTerm.get(status.term);
    if (known === undefined) this.leaderByTerm.set(status.term, host.id);
    else if (known !== host.id)
      throw new SafetyViolation(
        "Election Safety",
        `two leaders in term ${status.term}: ${known} and ${host.id}`,
      );
    this.checkLeaderCompleteness(host, status.term);
  }

  /** Every entry committed so far is in the leader's log (or below its snapshot). */
  private checkLeaderCompleteness(host: NodeHost, term: number): void {
    const rec = this.member(host.id);
    if (rec.checkedTerm !== term) (rec.checkedTerm = term), (rec.checkedUpTo = 0);
    const storage = host.storage;
    const from = Math.max(rec.checkedUpTo + 1, storage.firstIndex());
    for (let i = from; i <= this.committedMax; i++) {
      const want = this.committedTerms.get(i);
      if (want === undefined || (this.commitTerms.get(i) as number) >= term) continue;
      const have = i <= storage.lastIndex() ? storage.term(i) : undefined;
      if (have !== want) {
        throw new SafetyViolation(
          "Leader Completeness",
          `leader ${host.id} of term ${term} lacks committed entry (${i}, term ${want}); its log has ${have === undefined ? "nothing" : `term ${have}`} there`,
        );
      }
    }
    rec.checkedUpTo = Math.max(rec.checkedUpTo, this.committedMax);
  }

  private member(id: NodeId): MemberRecord {
    let rec = this.members.get(id);
    if (rec === undefined)
      this.members.set(id, (rec = { ackedTerm: 0, ackedIndex: 0, checkedTerm: 0, checkedUpTo: 0 }));
    return rec;
  }

  get committedIndexMax(): number {
    return this.committedMax;
  }
}

function holdsEntry(host: NodeHost, index: number, term: number): boolean {
  const s = host.storage;
  if (index < s.firstIndex()) return true; // below its snapshot, which holds only committed state
  return index <= s.lastIndex() && s.term(index) === term;
}
