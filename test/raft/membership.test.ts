// Membership changes one server at a time, §4.1 and §4.2 of Ongaro's thesis: "a server always
// uses the latest configuration in its log, regardless of whether the entry is committed", at
// most one change in progress, Ongaro's 2015 fix, removing the leader (§4.2.2) and learners
// (non-voting members, §4.2.1).
import { describe, expect, it } from "vitest";
import { Network } from "./harness.ts";

function elected(ids = ["1", "2", "3"], overrides = {}, learners: string[] = []): Network {
  const net = new Network(ids, overrides, learners);
  net.campaign(ids[0]!).stabilize();
  net.take();
  return net;
}

const voters = (net: Network, id: string): string[] => [...net.status(id).conf.voters].sort();

describe("§4.1 single-server changes", () => {
  it("adds a voter: the new member catches up from a snapshot and the log, and counts in quorums", () => {
    const net = elected();
    net.propose("1", "before");
    net.stabilize();
    net.addMember("4");
    expect(net.proposeConf("1", { type: "addVoter", nodeId: "4" })).toEqual({ ok: true });
    // In effect on the leader as soon as it is appended.
    expect(voters(net, "1")).toEqual(["1", "2", "3", "4"]);
    net.stabilize();
    expect(net.take((l) => l.startsWith("1->4 snap"))).toEqual([
      "1->4 snap t2 snap=1/1 off=0 len=0 done",
    ]);
    expect(voters(net, "4")).toEqual(["1", "2", "3", "4"]);
    expect(net.commands("4")).toEqual(["before"]);
    expect(net.get("4").machine.conf.voters).toContain("4");
    // Quorum is now 3 of 4: with 3 and 4 gone, nothing commits.
    net.isolate("3").isolate("4");
    net.propose("1", "needs-3-of-4");
    net.tick(3, ["1", "2"]);
    expect(net.commands("1")).toEqual(["before"]);
    net.heal().tick(2);
    expect(net.commands("4")).toEqual(["before", "needs-3-of-4"]);
  });

  it("a configuration takes effect on a follower when appended, before it commits", () => {
    const net = elected();
    net.addMember("4");
    net.proposeConf("1", { type: "addVoter", nodeId: "4" });
    net.deliver({ only: (m) => m.type === "app" && m.to === "2" });
    expect(net.status("2").commit).toBe(2);
    expect(voters(net, "2")).toEqual(["1", "2", "3", "4"]);
    expect(voters(net, "3")).toEqual(["1", "2", "3"]);
  });

  it("a configuration entry removed by log repair no longer applies", () => {
    const net = elected();
    net.isolate("1");
    net.addMember("4");
    net.proposeConf("1", { type: "addVoter", nodeId: "4" });
    net.processReadies();
    expect(voters(net, "1")).toEqual(["1", "2", "3", "4"]);
    net.elect("2");
    net.propose("2", "y");
    net.stabilize();
    net.heal().tick(1, ["2"]);
    net.stabilize();
    expect(voters(net, "1")).toEqual(["1", "2", "3"]);
    expect(net.status("1")).toMatchObject({ leader: "2", lastIndex: net.status("2").lastIndex });
    // And it survives a restart: the membership is replayed from the stored log.
    net.crash("1").restart("1");
    expect(voters(net, "1")).toEqual(["1", "2", "3"]);
  });

  it("at most one change is uncommitted at a time", () => {
    const net = elected();
    net.addMember("4");
    net.addMember("5");
    expect(net.proposeConf("1", { type: "addVoter", nodeId: "4" })).toEqual({ ok: true });
    expect(net.proposeConf("1", { type: "addVoter", nodeId: "5" })).toMatchObject({
      ok: false,
      reason: "confChangePending",
    });
    net.stabilize();
    expect(net.proposeConf("1", { type: "addVoter", nodeId: "5" })).toEqual({ ok: true });
    net.stabilize();
    expect(voters(net, "5")).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("refuses changes that make no sense", () => {
    const net = elected(["1"]);
    expect(net.proposeConf("1", { type: "addVoter", nodeId: "1" })).toMatchObject({
      ok: false,
      reason: "invalidConfChange",
    });
    expect(net.proposeConf("1", { type: "removeVoter", nodeId: "1" })).toMatchObject({
      ok: false,
      reason: "invalidConfChange",
    });
    expect(net.proposeConf("1", { type: "promoteLearner", nodeId: "9" })).toMatchObject({
      ok: false,
      reason: "invalidConfChange",
    });
  });

  it("a follower forwards a change to the leader", () => {
    const net = elected();
    expect(net.proposeConf("3", { type: "removeVoter", nodeId: "2" })).toEqual({ ok: true });
    net.stabilize();
    expect(voters(net, "1")).toEqual(["1", "3"]);
    expect(net.get("3").machine.conf.voters.sort()).toEqual(["1", "3"]);
  });

  it("removes a follower: it is no longer needed for a quorum", () => {
    const net = elected();
    net.proposeConf("1", { type: "removeVoter", nodeId: "3" });
    net.stabilize();
    net.crash("3");
    net.propose("1", "two-of-two");
    net.stabilize();
    expect(net.commands("2")).toEqual(["two-of-two"]);
    expect(net.status("1").progress?.["3"]).toBeUndefined();
  });
});

describe("§4.2.2 removing the leader", () => {
  it("the leader leads without counting itself until the removal commits, then hands over and steps down", () => {
    const net = elected();
    net.proposeConf("1", { type: "removeVoter", nodeId: "1" });
    expect(net.status("1").role).toBe("leader");
    expect(voters(net, "1")).toEqual(["2", "3"]);
    net.deliver({ only: (m) => m.type === "app" && m.to === "2" });
    net.deliver({ only: (m) => m.type === "appResp" });
    // Only 2 holds the entry: 1 does not count itself, so {2,3} needs both.
    expect(net.status("1")).toMatchObject({ role: "leader", commit: 2 });
    net.stabilize();
    expect(net.status("1").role).toBe("follower");
    const leader = net.leader();
    expect(["2", "3"]).toContain(leader);
    net.propose(leader!, "without-1");
    net.tick(30);
    expect(net.status("1").role).toBe("follower"); // never campaigns: not a voter
    expect(net.commands(leader!)).toEqual(["without-1"]);
  });
});

describe("the 2015 single-server change bug (Ongaro, raft-dev)", () => {
  it("a new leader may not propose a change before committing an entry of its term", () => {
    const net = elected(["1", "2", "3", "4"]);
    net.addMember("5");
    // S1 (term 2) appends C1 = {1,2,3,4,5} and replicates it to nobody.
    expect(net.proposeConf("1", { type: "addVoter", nodeId: "5" })).toEqual({ ok: true });
    net.processReadies();
    net.dropAll();
    net.crash("1");
    // S2 wins term 3 with S3 and S4; its no-op is not yet committed.
    net.campaign("2");
    net.stabilize({ only: (m) => m.type === "vote" || m.type === "voteResp" });
    expect(net.status("2")).toMatchObject({ role: "leader", term: 3, commit: 2 });
    // Proposing C2 = {2,3,4} now is what made the bug possible: S1 could later win under C1
    // with S4 and S5 and erase C2 after it committed. Refused until the no-op commits.
    expect(net.proposeConf("2", { type: "removeVoter", nodeId: "1" })).toMatchObject({
      ok: false,
      reason: "leaderNotReady",
    });
    net.stabilize();
    expect(net.status("2").commit).toBe(3);
    expect(net.proposeConf("2", { type: "removeVoter", nodeId: "1" })).toEqual({ ok: true });
    net.stabilize();
    // S4 now holds a term-3 entry, so S1 (last term 2) cannot win even with S5's vote.
    net.restart("1");
    expect(voters(net, "1")).toEqual(["1", "2", "3", "4", "5"]); // S1 still believes in C1
    net.elect("1"); // tries repeatedly
    expect(net.status("1").role).not.toBe("leader");
    expect(net.take((l) => l.startsWith("4->1 voteResp"))).not.toContain(
      expect.stringContaining("granted"),
    );
    // (Its vote requests did disturb the others, §4.2.3; PreVote + CheckQuorum prevent that.)
    net.tick(40, ["2", "3", "4"]);
    expect(["2", "3", "4"]).toContain(net.leader());
    expect(voters(net, net.leader()!)).toEqual(["2", "3", "4"]);
  });
});

describe("§4.2.1 learners", () => {
  it("a learner receives the log but is not counted in quorums", () => {
    const net = elected(["1", "2", "3"], {}, ["L", "M"]);
    net.propose("1", "x");
    net.stabilize();
    expect(net.commands("L")).toEqual(["x"]);
    net.isolate("2").isolate("3");
    net.propose("1", "needs-a-voter");
    net.tick(3, ["1", "L", "M"]);
    // 1, L and M hold index 4: three of five members, but one of three voters.
    expect(net.status("1").commit).toBe(3);
    expect(net.status("1").progress?.["L"]).toMatchObject({ isLearner: true, match: 4 });
    expect(net.status("1").progress?.["M"]).toMatchObject({ isLearner: true, match: 4 });
  });

  it("a learner never campaigns and is not asked for votes", () => {
    const net = elected(["1", "2", "3"], {}, ["L"]);
    net.crash("1");
    net.tick(60, ["L"]);
    expect(net.status("L")).toMatchObject({ role: "follower", term: 2 });
    net.campaign("L").stabilize();
    expect(net.status("L").role).toBe("follower");
    net.campaign("2").stabilize();
    expect(net.take((l) => l.includes("->L vote"))).toEqual([]);
  });

  it("added as a learner, then promoted to voter", () => {
    const net = elected();
    net.addMember("4");
    net.proposeConf("1", { type: "addLearner", nodeId: "4" });
    net.stabilize();
    expect(net.status("4").conf).toEqual({ voters: ["1", "2", "3"], learners: ["4"] });
    net.proposeConf("1", { type: "promoteLearner", nodeId: "4" });
    net.stabilize();
    expect(net.status("4").conf).toEqual({ voters: ["1", "2", "3", "4"], learners: [] });
    net.crash("1");
    net.elect("4");
    expect(net.status("4").role).toBe("leader");
  });

  it("a learner can be removed", () => {
    const net = elected(["1", "2", "3"], {}, ["L"]);
    net.proposeConf("1", { type: "removeLearner", nodeId: "L" });
    net.stabilize();
    expect(net.status("1").conf).toEqual({ voters: ["1", "2", "3"], learners: [] });
  });
});
