// PreVote (§9.6 of Ongaro's thesis) and CheckQuorum / leader leases (§6.2, §4.2.3): keeping
// members that rejoin after a partition from disrupting a working leader.
import { describe, expect, it } from "vitest";
import { Network } from "./harness.ts";

function elected(overrides = {}): Network {
  const net = new Network(["1", "2", "3"], overrides);
  net.campaign("1").stabilize();
  net.take();
  return net;
}

describe("PreVote", () => {
  it("a partitioned member does not increase its term, so it does not disrupt the leader on rejoin", () => {
    const net = elected({ preVote: true });
    net.isolate("3");
    net.tick(60, ["3"]);
    expect(net.status("3")).toMatchObject({ term: 2, role: "preCandidate" });
    net.heal();
    net.tick(5);
    expect(net.status("1")).toMatchObject({ role: "leader", term: 2 });
    expect(net.status("3")).toMatchObject({ role: "follower", term: 2, leader: "1" });
  });

  it("without PreVote the same partition forces the leader out (the problem PreVote solves)", () => {
    const net = elected({ preVote: false });
    net.isolate("3");
    net.tick(60, ["3"]);
    expect(net.status("3").term).toBeGreaterThan(3);
    net.heal();
    net.tick(1, ["1"]);
    expect(net.status("1").role).toBe("follower");
  });

  it("a pre-vote asks with the next term but changes neither the voter's term nor its vote", () => {
    const net = new Network(["1", "2", "3"], { preVote: true });
    net.campaign("1");
    net.deliver({ only: (m) => m.to === "2" });
    net.deliver({ only: (m) => m.from === "2" });
    expect(net.take()).toEqual(["1->2 preVote t2 last=1/1", "2->1 preVoteResp t2 granted"]);
    expect(net.status("2")).toMatchObject({ term: 1, vote: "" });
    expect(net.get("2").storage.initialState().hardState).toMatchObject({ term: 1, vote: "" });
    // With a majority of pre-votes, 1 runs the real election in term 2.
    expect(net.status("1")).toMatchObject({ role: "candidate", term: 2, vote: "1" });
    net.stabilize();
    expect(net.leader()).toBe("1");
  });

  it("a pre-candidate whose log is behind gets no pre-votes and never bumps its term", () => {
    const net = elected({ preVote: true });
    net.isolate("3");
    net.propose("1", "x");
    net.stabilize();
    net.heal();
    net.isolate("1"); // the leader dies: 2 and 3 must elect someone
    net.campaign("3").stabilize();
    expect(net.take((l) => l.startsWith("2->3"))).toEqual(["2->3 preVoteResp t2 rejected"]);
    // Still hoping for 1's answer, but its term did not move.
    expect(net.status("3")).toMatchObject({ role: "preCandidate", term: 2 });
    net.campaign("2").stabilize();
    expect(net.status("2")).toMatchObject({ role: "leader", term: 3 });
  });
});

describe("CheckQuorum", () => {
  it("a leader that does not hear from a quorum within an election timeout steps down", () => {
    const net = elected({ checkQuorum: true });
    net.isolate("1");
    net.tick(9, ["1"]);
    expect(net.status("1").role).toBe("leader");
    net.tick(1, ["1"]);
    expect(net.status("1")).toMatchObject({ role: "follower", term: 2, leader: "" });
    expect(net.propose("1", "x")).toMatchObject({ ok: false, reason: "noLeader" });
  });

  it("without CheckQuorum an isolated leader keeps believing it leads", () => {
    const net = elected({ checkQuorum: false });
    net.isolate("1");
    net.tick(50, ["1"]);
    expect(net.status("1").role).toBe("leader");
  });

  it("a leader that hears from a quorum keeps leading even if one follower is gone", () => {
    const net = elected({ checkQuorum: true });
    net.isolate("3");
    net.tick(50, ["1", "2"]);
    expect(net.status("1")).toMatchObject({ role: "leader", term: 2 });
  });

  it("a follower that heard from the leader within the election timeout ignores a vote request", () => {
    const net = elected({ checkQuorum: true });
    net.take();
    net.get("2").raw.step({ type: "vote", from: "3", to: "2", term: 9, index: 99, logTerm: 9 });
    net.deliver();
    expect(net.take((l) => l.includes("voteResp"))).toEqual([]);
    expect(net.status("2")).toMatchObject({ term: 2, leader: "1", vote: "1" });
  });

  it("the lease expires: after an election timeout without the leader, the follower votes", () => {
    const net = elected({ checkQuorum: true });
    net.isolate("1");
    net.tickOnly(10, ["2"]);
    net.get("2").raw.step({ type: "vote", from: "3", to: "2", term: 3, index: 2, logTerm: 2 });
    net.processReadies();
    expect(net.queue.filter((m) => m.type === "voteResp").map((m) => m.reject ?? false)).toEqual([
      false,
    ]);
  });

  it("with PreVote and CheckQuorum, a member returning from a partition does not disturb anyone", () => {
    const net = elected({ checkQuorum: true, preVote: true });
    net.isolate("3");
    net.tick(100);
    net.heal();
    net.tick(20);
    for (const id of ["1", "2", "3"])
      expect(net.status(id)).toMatchObject({ term: 2, leader: "1" });
  });

  it("a stale leader cut off by a partition learns the new term from a rejection and steps down", () => {
    const net = elected({ checkQuorum: true, preVote: true });
    net.isolate("1");
    net.tick(30, ["2", "3"]);
    const leader = net.leader();
    expect(["2", "3"]).toContain(leader);
    net.heal();
    net.tickOnly(1, ["1"]); // heartbeat of term 2 reaches members of term 3
    net.stabilize();
    expect(net.status("1")).toMatchObject({ role: "follower", term: net.status(leader!).term });
  });
});
