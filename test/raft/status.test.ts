// What a member reports of itself (etcd's Status and BasicStatus): callers route requests by it
// (role, leader, term), operators read the leader's view of each member from it.
import { describe, expect, it } from "vitest";
import { Network } from "./harness.ts";

describe("status", () => {
  it("the basic status is the status's role, leader, term and sleep, without the copies", () => {
    const net = new Network(["1", "2", "3"], { quiesceAfterTicks: 3 });
    net.campaign("1").stabilize();
    for (const id of ["1", "2"]) {
      const { id: who, term, role, leader, quiesced } = net.status(id);
      expect(net.get(id).raw.basicStatus()).toEqual({ id: who, term, role, leader, quiesced });
    }
    expect(net.get("2").raw.basicStatus()).toEqual({
      id: "2",
      term: 2,
      role: "follower",
      leader: "1",
      quiesced: false,
    });
    net.tick(5);
    expect(net.get("1").raw.basicStatus()).toMatchObject({ role: "leader", quiesced: true });
    expect(net.status("2")).toMatchObject({ quiesced: true, applied: 2, firstIndex: 2 });
  });

  it("the leader's view: who is a learner, who answered within an election timeout, who is being transferred to", () => {
    const net = new Network(["1", "2", "3"], {}, ["4"]);
    net.campaign("1").stabilize();
    net.isolate("3");
    net.tick(12);
    const progress = net.status("1").progress ?? {};
    expect(progress["1"]).toMatchObject({ recentActive: true, isLearner: false, match: 2 });
    expect(progress["2"]).toMatchObject({
      recentActive: true,
      isLearner: false,
      match: 2,
      next: 3,
    });
    expect(progress["3"]).toMatchObject({ recentActive: false, isLearner: false });
    expect(progress["4"]).toMatchObject({
      recentActive: true,
      isLearner: true,
      pendingSnapshot: 0,
    });
    expect(progress["2"]?.snapshotBytes).toBeUndefined();
    net.transfer("1", "3");
    expect(net.status("1").leadTransferee).toBe("3");
  });

  it("a status is a copy: changing it changes nothing in the member", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.status("1").conf.voters.push("9");
    net.status("1").conf.learners.push("9");
    expect(net.status("1").conf).toEqual({ voters: ["1", "2", "3"], learners: [] });
  });
});
