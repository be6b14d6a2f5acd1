// Leadership transfer, §3.10 of Ongaro's thesis: "the prior leader sends its log entries to the
// target server", then "sends a TimeoutNow request to the target server", and "if the transfer
// does not complete within about an election timeout, the prior leader aborts the transfer".
import { describe, expect, it } from "vitest";
import { Network } from "./harness.ts";

function elected(overrides = {}, learners: string[] = []): Network {
  const net = new Network(["1", "2", "3"], overrides, learners);
  net.campaign("1").stabilize();
  net.take();
  return net;
}

describe("§3.10 leadership transfer", () => {
  it("to an up-to-date follower: timeoutNow at once, and the target wins the next term", () => {
    const net = elected();
    net.transfer("1", "2").stabilize();
    expect(net.take().slice(0, 3)).toEqual([
      "1->2 timeoutNow t2",
      "2->1 vote t3 last=2/2 ctx=raft/transfer",
      "2->3 vote t3 last=2/2 ctx=raft/transfer",
    ]);
    expect(net.status("2")).toMatchObject({ role: "leader", term: 3 });
    expect(net.status("1")).toMatchObject({ role: "follower", leader: "2" });
  });

  it("to a lagging follower: the leader first brings it up to date", () => {
    const net = elected();
    net.isolate("3");
    net.propose("1", "x");
    net.stabilize();
    net.heal().take();
    net.transfer("1", "3").stabilize();
    const lines = net.take();
    const timeoutAt = lines.indexOf("1->3 timeoutNow t2");
    const caughtUpAt = lines.findIndex((l) => l.startsWith("3->1 appResp t2 index=3"));
    expect(caughtUpAt).toBeGreaterThanOrEqual(0);
    expect(timeoutAt).toBeGreaterThan(caughtUpAt);
    expect(net.status("3")).toMatchObject({ role: "leader", term: 3 });
    expect(net.commands("3")).toEqual(["x"]);
  });

  it("refuses proposals while transferring, and aborts after an election timeout", () => {
    const net = elected();
    net.isolate("3");
    net.transfer("1", "3");
    expect(net.propose("1", "x")).toMatchObject({ ok: false, reason: "transferring" });
    expect(net.status("1").leadTransferee).toBe("3");
    net.tick(9, ["1", "2"]);
    expect(net.status("1").leadTransferee).toBe("3");
    net.tick(1, ["1", "2"]);
    expect(net.status("1")).toMatchObject({ role: "leader", leadTransferee: "" });
    expect(net.propose("1", "x")).toEqual({ ok: true });
  });

  it("a follower forwards the request to the leader", () => {
    const net = elected();
    net.transfer("3", "3").stabilize();
    expect(net.take()[0]).toBe("3->1 transferLeader t0 to=3");
    expect(net.leader()).toBe("3");
  });

  it("overrides CheckQuorum leases and skips PreVote", () => {
    const net = elected({ checkQuorum: true, preVote: true });
    net.transfer("1", "3").stabilize();
    expect(net.take().filter((l) => l.includes("preVote"))).toEqual([]);
    expect(net.status("3")).toMatchObject({ role: "leader", term: 3 });
  });

  it("ignores a transfer to a learner", () => {
    const net = elected({}, ["L"]);
    net.transfer("1", "L").stabilize();
    expect(net.take().filter((l) => l.includes("timeoutNow"))).toEqual([]);
    expect(net.status("1")).toMatchObject({ role: "leader", leadTransferee: "" });
  });
});

describe("§3.10 leadership transfer: repeated and cancelled requests", () => {
  it("asking again for the same transfer neither restarts its election timeout nor sends timeoutNow twice", () => {
    const net = elected();
    net.isolate("3");
    net.transfer("1", "3");
    net.tick(6, ["1", "2"]);
    net.transfer("1", "3"); // the same request again: the attempt keeps its deadline
    net.tick(4, ["1", "2"]);
    expect(net.status("1")).toMatchObject({ role: "leader", leadTransferee: "" });
    const up = elected();
    up.transfer("1", "2").transfer("1", "2");
    up.deliver({ only: () => false });
    expect(up.queue.filter((m) => m.type === "timeoutNow")).toHaveLength(1);
  });

  it("a transfer gets a whole election timeout, however late in the leader's timer it begins", () => {
    const net = elected();
    net.isolate("3");
    net.tick(8, ["1", "2"]);
    net.transfer("1", "3");
    net.tick(9, ["1", "2"]);
    expect(net.status("1").leadTransferee).toBe("3");
  });

  it("a transfer to the leader itself cancels the one in progress and changes nothing else", () => {
    const net = elected();
    net.isolate("3");
    net.transfer("1", "3");
    net.transfer("1", "1");
    expect(net.status("1")).toMatchObject({ role: "leader", leadTransferee: "" });
    expect(net.propose("1", "x")).toEqual({ ok: true });
    const alone = elected();
    alone.transfer("1", "1");
    alone.deliver({ only: () => false });
    expect(alone.queue.filter((m) => m.type === "timeoutNow")).toEqual([]);
    expect(alone.status("1").leadTransferee).toBe("");
  });

  it("a transfer to another member replaces the one in progress", () => {
    const net = elected();
    net.isolate("3");
    net.transfer("1", "3");
    net.transfer("1", "2").stabilize();
    expect(net.status("2")).toMatchObject({ role: "leader", term: 3 });
  });
});
