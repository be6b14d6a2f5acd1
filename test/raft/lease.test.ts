// Read leases, §6.4.1 of Ongaro's thesis: the leader keeps a lease through its ordinary heartbeats;
// once a majority acknowledged them it may serve reads from its own state until shortly before
// the followers could time out, with no round per read. Here the followers' side is explicit:
// a member that heard from the leader grants no (pre)vote and starts no campaign for
// voteRefusalMs by its own clock, and the leader relies on that for readLeaseMs < voteRefusalMs
// after the stamp of a heartbeat a quorum answered.
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/index.ts";
import { RawNode } from "../../src/raft/rawnode.ts";
import type { Message, NodeId } from "../../src/raft/types.ts";
import { config, fmt, Network, singleVoterStorage } from "./harness.ts";

const LEASE = { readLeaseMs: 250, voteRefusalMs: 500 };
/** The clock reading at which the first leader is elected. */
const T0 = 1000;

/** Leader 1 elected at T0 with leases on; no heartbeat round yet (the clock stands still). */
function leased(ids: NodeId[] = ["1", "2", "3"], learners: NodeId[] = []): Network {
  const net = new Network(ids, LEASE, learners);
  net.nowMs = T0;
  net.campaign("1").stabilize();
  net.take();
  return net;
}

/** Delivers `m` at its addressee's clock reading; returns what anyone sent as a result. */
function send(net: Network, m: Message): string[] {
  expect(net.queue, "send() expects a quiet network").toEqual([]);
  net.get(m.to).raw.step(m, net.now(m.to));
  net.processReadies();
  const out = net.queue.map(fmt);
  net.queue = [];
  return out;
}

/** A (pre)vote request from `from`, with a log as up to date as the group's (index 2, term 2). */
function ask(
  type: "vote" | "preVote",
  from: NodeId,
  to: NodeId,
  term: number,
  extra: Partial<Message> = {},
): Message {
  return { type, from, to, term, index: 2, logTerm: 2, ...extra };
}

const heartbeats = (l: string): boolean => l.includes(" heartbeat");

describe("read lease on the leader", () => {
  it("serves the commit index with no message once a quorum answered a heartbeat round", () => {
    const net = leased();
    expect(net.leaseRead("1")).toBeNull(); // elected, but nobody answered a heartbeat yet
    net.tick(1);
    expect(net.take(heartbeats)).toEqual([
      "1->2 heartbeat t2 commit=2 at=1000",
      "1->3 heartbeat t2 commit=2 at=1000",
      "2->1 heartbeatResp t2 at=1000",
      "3->1 heartbeatResp t2 at=1000",
    ]);
    expect(net.leaseRead("1")).toBe(2);
    expect(net.processReadies()).toBe(false);
    expect(net.queue).toEqual([]);
    // The lease serves the commit index of the moment, not the one of the round.
    net.propose("1", "x");
    net.stabilize();
    expect(net.leaseRead("1")).toBe(3);
  });

  it("expires readLeaseMs after the newest answered stamp when no newer answer comes", () => {
    const net = leased();
    net.tick(1); // round stamped 1000, answered
    net.advance(249);
    expect(net.leaseRead("1")).toBe(2);
    net.advance(1); // 1250 = 1000 + readLeaseMs
    expect(net.leaseRead("1")).toBeNull();
    net.tick(1); // a round stamped 1250 renews it
    expect(net.leaseRead("1")).toBe(2);
    net.advance(249);
    expect(net.leaseRead("1")).toBe(2);
    net.advance(1);
    expect(net.leaseRead("1")).toBeNull();
  });

  it("counts from the heartbeat's stamp, not from when the answer arrived", () => {
    const net = leased();
    net.tickOnly(1); // heartbeats stamped 1000
    net.deliver(); // the followers answer; the answers are slow
    net.advance(200);
    net.stabilize(); // they arrive at 1200
    expect(net.take((l) => l.includes("heartbeatResp"))).toEqual([
      "2->1 heartbeatResp t2 at=1000",
      "3->1 heartbeatResp t2 at=1000",
    ]);
    expect(net.leaseRead("1")).toBe(2);
    net.advance(50); // 1250: 250 ms after the stamp, 50 ms after the answers
    expect(net.leaseRead("1")).toBeNull();
  });

  it("a late answer to an older round does not move the lease back", () => {
    const net = leased();
    net.tickOnly(1); // round stamped 1000
    net.deliver();
    const late = net.queue; // the answers to it are held back
    net.queue = [];
    net.advance(100);
    net.tick(1); // round stamped 1100, answered
    net.queue.push(...late);
    net.stabilize();
    expect(net.take((l) => l.includes("heartbeatResp"))).toEqual([
      "2->1 heartbeatResp t2 at=1100",
      "3->1 heartbeatResp t2 at=1100",
      "2->1 heartbeatResp t2 at=1000",
      "3->1 heartbeatResp t2 at=1000",
    ]);
    net.advance(249); // 1349: only the round of 1100 still holds
    expect(net.leaseRead("1")).toBe(2);
  });

  it("is null on followers, though they heard from the leader, and on a deposed leader", () => {
    const net = leased();
    net.tick(3);
    expect(net.leaseRead("1")).toBe(2);
    expect(net.leaseRead("2")).toBeNull();
    expect(net.leaseRead("3")).toBeNull();
    net.transfer("1", "2").stabilize();
    expect(net.status("1")).toMatchObject({ role: "follower", term: 3, leader: "2", commit: 3 });
    // The answers 1 collected as leader (stamped at this very reading) are worth nothing now.
    expect(net.leaseRead("1")).toBeNull();
  });

  it("is null until the leader has committed an entry of its term", () => {
    const net = new Network(["1", "2", "3"], LEASE);
    net.nowMs = T0;
    net.campaign("1");
    net.deliver().deliver(); // votes in: 1 leads term 2; its empty entry is not yet acknowledged
    expect(net.status("1")).toMatchObject({ role: "leader", term: 2, commit: 1 });
    net.tickOnly(1);
    net.deliver({ only: (m) => m.type === "heartbeat" });
    net.deliver({ only: (m) => m.type === "heartbeatResp" });
    expect(net.take(heartbeats)).toEqual([
      "1->2 heartbeat t2 commit=0 at=1000",
      "1->3 heartbeat t2 commit=0 at=1000",
      "2->1 heartbeatResp t2 at=1000",
      "3->1 heartbeatResp t2 at=1000",
    ]);
    // A quorum answered, but commit 1 may be behind what an earlier leader committed (§6.4 step 1).
    expect(net.leaseRead("1")).toBeNull();
    net.stabilize();
    expect(net.status("1").commit).toBe(2);
    expect(net.leaseRead("1")).toBe(2);
  });

  it("is off without readLeaseMs: no stamps, no promises, no clock needed", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.tick(1);
    expect(net.take(heartbeats)).toEqual([
      "1->2 heartbeat t2 commit=2",
      "1->3 heartbeat t2 commit=2",
      "2->1 heartbeatResp t2",
      "3->1 heartbeatResp t2",
    ]);
    expect(net.leaseRead("1")).toBeNull();
    expect(net.get("2").votePromiseWrites).toEqual([]);
    // Calls without a clock reading are fine, and a follower votes as it always did.
    const raw = net.get("2").raw;
    raw.tick();
    raw.step(ask("vote", "3", "2", 3));
    net.processReadies();
    expect(net.queue.map(fmt)).toEqual(["2->3 voteResp t3 granted"]);
  });

  it("a new term starts without a lease: answers given in an earlier term do not count", () => {
    const net = leased();
    net.tick(1); // 1's lease of term 2, from answers stamped 1000
    expect(net.leaseRead("1")).toBe(2);
    net.transfer("1", "2").stabilize();
    expect(net.status("2")).toMatchObject({ role: "leader", term: 3 });
    net.tick(1);
    expect(net.leaseRead("2")).toBe(3); // the new leader's own round
    net.transfer("2", "1").stabilize();
    expect(net.status("1")).toMatchObject({ role: "leader", term: 4, commit: 4 });
    // Same clock reading as the answers of term 2, which must not count in term 4.
    expect(net.leaseRead("1")).toBeNull();
    net.tick(1);
    expect(net.leaseRead("1")).toBe(4);
  });
});

describe("read lease: only a quorum of voters counts", () => {
  it("with three voters, the answer of one follower suffices", () => {
    const net = leased();
    net.cut("1", "3");
    net.tick(1);
    expect(net.take((l) => l.includes("heartbeatResp"))).toEqual(["2->1 heartbeatResp t2 at=1000"]);
    expect(net.leaseRead("1")).toBe(2);
  });

  it("with five voters, the answer of one follower does not; that of two does", () => {
    const net = leased(["1", "2", "3", "4", "5"]);
    net.cut("1", "3").cut("1", "4").cut("1", "5");
    net.tick(1);
    expect(net.take((l) => l.includes("heartbeatResp"))).toEqual(["2->1 heartbeatResp t2 at=1000"]);
    expect(net.leaseRead("1")).toBeNull();
    net.heal().cut("1", "4").cut("1", "5");
    net.tick(1);
    expect(net.leaseRead("1")).toBe(2);
  });

  it("a learner's answer does not count (it never votes, so it promises nothing)", () => {
    const net = leased(["1", "2", "3"], ["L"]);
    net.cut("1", "2").cut("1", "3");
    net.tick(1);
    expect(net.take((l) => l.includes("heartbeatResp"))).toEqual(["L->1 heartbeatResp t2 at=1000"]);
    expect(net.leaseRead("1")).toBeNull();
  });
});

describe("the followers' promise", () => {
  it("a follower that heard from the leader refuses (pre)votes until voteRefusalMs passed by its clock", () => {
    const net = leased();
    net.tick(1); // both followers heard the leader at 1000: no vote before 1500
    net.advance(499);
    expect(send(net, ask("preVote", "3", "2", 3))).toEqual([]);
    expect(send(net, ask("vote", "3", "2", 3))).toEqual([]);
    // Not even disturbed: same term, same leader.
    expect(net.status("2")).toMatchObject({ role: "follower", term: 2, leader: "1", vote: "1" });
    net.advance(1);
    expect(send(net, ask("preVote", "3", "2", 3))).toEqual(["2->3 preVoteResp t3 granted"]);
    expect(send(net, ask("vote", "3", "2", 3))).toEqual(["2->3 voteResp t3 granted"]);
    expect(net.status("2")).toMatchObject({ term: 3, vote: "3" });
  });

  it("the promise holds in a newer term reached without a leader", () => {
    const net = leased();
    net.tick(1);
    net.advance(100);
    // A transfer candidate (which overrides the promise) whose log is behind is refused, but
    // the follower moves to its term, with no vote and no leader there.
    expect(
      send(net, ask("vote", "3", "2", 3, { index: 1, logTerm: 1, context: "raft/transfer" })),
    ).toEqual(["2->3 voteResp t3 rejected"]);
    expect(net.status("2")).toMatchObject({ term: 3, vote: "", leader: "" });
    // An ordinary request of that term must still wait for the promise to run out.
    expect(send(net, ask("preVote", "3", "2", 3))).toEqual(["2->3 preVoteResp t3 rejected"]);
    expect(send(net, ask("vote", "3", "2", 3))).toEqual(["2->3 voteResp t3 rejected"]);
    net.advance(400); // 1500
    expect(send(net, ask("vote", "3", "2", 3))).toEqual(["2->3 voteResp t3 granted"]);
  });

  it("a follower does not campaign, by campaign() or by its election timer, while its promise holds", () => {
    const net = leased();
    net.tick(1); // heard at 1000
    net.isolate("1"); // the leader goes silent
    net.take();
    net.advance(400);
    net.campaign("2");
    expect(net.queue).toEqual([]);
    net.tick(60, ["2", "3"]); // several election timeouts, the clock standing at 1400
    expect(net.take()).toEqual([]);
    for (const id of ["2", "3"])
      expect(net.status(id)).toMatchObject({ role: "follower", term: 2, leader: "1" });
    net.advance(100); // 1500
    net.campaign("2").stabilize();
    expect(net.take().slice(0, 2)).toEqual(["2->3 vote t3 last=2/2", "3->2 voteResp t3 granted"]);
    expect(net.status("2")).toMatchObject({ role: "leader", term: 3 });
  });

  it("the election timer campaigns once the promise ran out", () => {
    const net = leased();
    net.msPerTick = 10;
    net.tick(1); // heard at 1010
    net.isolate("1");
    let electedAt: number | undefined;
    for (let i = 0; i < 200 && electedAt === undefined; i++) {
      net.tick(1, ["2", "3"]);
      if (net.status("2").role === "leader" || net.status("3").role === "leader")
        electedAt = net.nowMs;
    }
    expect(electedAt).toBeGreaterThanOrEqual(1510);
    // Two election timeouts at most (10..20 ticks each) after the promise ran out.
    expect(electedAt).toBeLessThanOrEqual(1510 + 2 * 20 * 10);
  });

  it("a transfer's campaign is not refused: timeoutNow overrides the promise (§3.10)", () => {
    const net = leased();
    net.tick(1); // promises until 1500; the clock stays at 1000
    net.transfer("1", "2").stabilize();
    expect(net.take((l) => l.includes("vote"))).toEqual([
      "2->1 vote t3 last=2/2 ctx=raft/transfer",
      "2->3 vote t3 last=2/2 ctx=raft/transfer",
      "1->2 voteResp t3 granted",
      "3->2 voteResp t3 granted",
    ]);
    expect(net.status("2")).toMatchObject({ role: "leader", term: 3 });
  });
});

describe("read lease and leadership transfer", () => {
  it("a transfer revokes the lease at once, before the transferee even hears of it", () => {
    const net = leased();
    net.tick(1);
    expect(net.leaseRead("1")).toBe(2);
    net.transfer("1", "2");
    net.processReadies();
    expect(net.queue.map(fmt)).toEqual(["1->2 timeoutNow t2"]);
    expect(net.leaseRead("1")).toBeNull();
  });

  it("the lease stays revoked for the rest of the term, even when the transfer is abandoned", () => {
    const net = leased();
    net.msPerTick = 10;
    net.tick(1);
    net.isolate("3");
    net.transfer("1", "3"); // its timeoutNow is lost
    expect(net.leaseRead("1")).toBeNull();
    net.tick(10, ["1", "2"]); // abandoned after an election timeout; 2 keeps answering
    expect(net.status("1")).toMatchObject({ role: "leader", term: 2, leadTransferee: "" });
    expect(net.propose("1", "x")).toEqual({ ok: true });
    net.tick(5, ["1", "2"]);
    expect(net.take((l) => l.startsWith("2->1 heartbeatResp")).at(-1)).toBe(
      `2->1 heartbeatResp t2 at=${net.nowMs}`,
    );
    expect(net.leaseRead("1")).toBeNull();
  });
});

describe("the promise survives restarts", () => {
  it("a follower persists its promise ahead, at most once per refusal window", () => {
    const net = leased();
    // The election's append at 1000 was the first word from the leader.
    const [first] = net.get("2").votePromiseWrites;
    expect(net.get("2").votePromiseWrites).toHaveLength(1);
    expect(first).toBeGreaterThanOrEqual(T0 + LEASE.voteRefusalMs);
    net.msPerTick = 10;
    // 50 heartbeats within one window (1010..1500): at most one new value.
    net.tick(50);
    expect(net.get("2").votePromiseWrites.length).toBeLessThanOrEqual(2);
    // 100 heartbeats over about two windows: at most two new values, each further ahead.
    net.tick(50);
    const writes = net.get("2").votePromiseWrites;
    expect(writes.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < writes.length; i++) expect(writes[i]).toBeGreaterThan(writes[i - 1]!);
    // Every answer left with the promise it gives already persisted (the harness checks it),
    // so the newest value covers the newest heartbeat.
    expect(writes.at(-1)).toBeGreaterThanOrEqual(net.nowMs + LEASE.voteRefusalMs);
  });

  it("a member restarted with its persisted promise refuses votes and does not campaign until then", () => {
    const net = leased();
    net.tick(1);
    const until = net.get("2").votePromiseUntilMs!;
    expect(until).toBeGreaterThanOrEqual(T0 + LEASE.voteRefusalMs);
    net.crash("2").crash("3");
    net.advance(100);
    net.restart("2"); // gets votesRefusedUntilMs back from what it persisted
    net.restart("3", { votesRefusedUntilMs: undefined }); // as if it had not persisted it
    net.isolate("2").isolate("3");
    // Amnesia: 3 would help elect a new leader at once, breaking the promise its answer gave.
    expect(send(net, ask("vote", "2", "3", 3))).toEqual(["3->2 voteResp t3 granted"]);
    net.nowMs = until - 1;
    expect(send(net, ask("vote", "3", "2", 3))).toEqual([]);
    net.campaign("2");
    expect(net.queue).toEqual([]);
    expect(net.status("2")).toMatchObject({ role: "follower", term: 2 });
    net.advance(1);
    expect(send(net, ask("vote", "3", "2", 3))).toEqual(["2->3 voteResp t3 granted"]);
  });
});

describe("safety: a lease never overlaps a newer leader", () => {
  it.each([
    ["the same clock", {}],
    ["clocks set far apart (only intervals matter)", { "1": 0, "2": 1_000_000, "3": -7_000 }],
  ])(
    "an isolated leader's lease runs out before the others can elect a leader, with %s",
    (_name, offsets: Record<string, number>) => {
      const net = new Network(["1", "2", "3"], LEASE);
      for (const [id, ms] of Object.entries(offsets)) net.clockOffsetMs.set(id, ms);
      net.nowMs = T0;
      net.campaign("1").stabilize();
      net.msPerTick = 10;
      net.tick(1); // round stamped 1010 (1's clock), answered: the lease holds until 1260
      const renewedAt = net.now("1");
      net.isolate("1");
      const served: number[] = [];
      let electedAt: number | undefined;
      for (let i = 0; i < 200 && electedAt === undefined; i++) {
        net.tick(1); // every member ticks; 1 keeps sending heartbeats nobody receives
        if (net.leaseRead("1") !== null) served.push(net.now("1")); // the harness checks it is not stale
        if (net.status("2").role === "leader" || net.status("3").role === "leader")
          electedAt = net.now("1");
      }
      expect(served.at(-1)).toBe(renewedAt + LEASE.readLeaseMs - 10);
      expect(electedAt).toBeGreaterThanOrEqual(renewedAt + LEASE.voteRefusalMs);
      const next = net.status("2").role === "leader" ? "2" : "3";
      // The old leader still believes it leads, but serves nothing.
      expect(net.status("1")).toMatchObject({ role: "leader", term: 2 });
      net.propose(next, "newer");
      net.stabilize();
      expect(net.commands(next)).toEqual(["newer"]);
      expect(net.leaseRead("1")).toBeNull();
      net.tick(1);
      expect(net.leaseRead(next)).toBe(net.status(next).commit);
      expect(net.leaseRead("1")).toBeNull();
    },
  );
});

describe("clock readings", () => {
  it("a stale reading does not revive an expired lease", () => {
    const net = leased();
    net.tick(1); // answers stamped 1000
    const raw = net.get("1").raw;
    expect(raw.leaseRead(1300)).toBeNull();
    // The member has seen 1300; a reading taken earlier (1100) must not make the lease hold again.
    expect(raw.leaseRead(1100)).toBeNull();
  });

  it("a stale reading does not shorten a follower's promise", () => {
    const net = leased(); // the followers heard the leader at 1000
    const raw = net.get("2").raw;
    raw.tick(1300);
    // A heartbeat handed over with a reading older than one already seen: the promise runs from
    // the newest reading (1300), the earliest the message can have arrived.
    raw.step({ type: "heartbeat", from: "1", to: "2", term: 2, commit: 2, sentAtMs: 1000 }, 1000);
    net.processReadies();
    expect(net.queue.map(fmt)).toEqual(["2->1 heartbeatResp t2 at=1000"]);
    net.queue = [];
    const vote = ask("vote", "3", "2", 3);
    for (const [nowMs, answer] of [
      [1799, []],
      [1800, ["2->3 voteResp t3 granted"]],
    ] as const) {
      raw.step(vote, nowMs);
      net.processReadies();
      expect(net.queue.map(fmt)).toEqual(answer);
    }
  });
});

// The configurations refused are in rawnode.test.ts ("config validation").
describe("read lease configuration", () => {
  const storage = singleVoterStorage;

  it("accepts readLeaseMs below voteRefusalMs, and leases off without either", () => {
    expect(() => new RawNode(config("1", LEASE), storage())).not.toThrow();
    expect(() => new RawNode(config("1", { readLeaseMs: 0 }), storage())).not.toThrow();
    expect(() => new RawNode(config("1"), storage())).not.toThrow();
  });

  it("with leases on, every call that can depend on time needs the clock's reading", () => {
    const node = new RawNode(config("1", LEASE), storage());
    const expected = /pass the clock's reading/;
    expect(() => node.tick()).toThrow(AssertionError);
    expect(() => node.tick()).toThrow(expected);
    expect(() => node.campaign()).toThrow(expected);
    expect(() => node.step({ type: "heartbeat", from: "2", to: "1", term: 5, commit: 0 })).toThrow(
      expected,
    );
    expect(() => node.tick(Number.NaN)).toThrow(expected);
    expect(() => node.leaseRead(Number.POSITIVE_INFINITY)).toThrow(expected);
    node.tick(0);
    node.campaign(0);
    expect(node.status().role).toBe("leader");
  });
});
