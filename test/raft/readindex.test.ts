// Linearizable reads by ReadIndex, §6.4 of Ongaro's thesis: "the leader records its current
// commit index in a local variable readIndex", "sends heartbeats ... if it receives
// acknowledgments from a majority of the cluster, the leader knows it was still the leader",
// then the read is served once the state machine has applied through readIndex.
import { describe, expect, it } from "vitest";
import { Network } from "./harness.ts";

function elected(overrides = {}): Network {
  const net = new Network(["1", "2", "3"], overrides);
  net.campaign("1").stabilize();
  net.take();
  return net;
}

describe("ReadIndex on the leader", () => {
  it("releases a read only after a quorum acknowledged a heartbeat sent after the read arrived", () => {
    const net = elected();
    expect(net.readIndex("1", "r1")).toEqual({ ok: true });
    net.deliver();
    // One follower completes a quorum of three with the leader: the round asks only it.
    expect(net.take()).toEqual(["1->2 heartbeat t2 commit=2 ctx=read/2/1"]);
    expect(net.get("1").readStates).toEqual([]);
    net.deliver({ only: (m) => m.from === "2" });
    expect(net.take()).toEqual(["2->1 heartbeatResp t2 ctx=read/2/1"]);
    expect(net.get("1").readStates).toEqual([{ index: 2, context: "r1" }]);
  });

  it("batches the reads that arrive together into one heartbeat round", () => {
    const net = elected();
    for (const ctx of ["a", "b", "c"]) net.readIndex("1", ctx);
    net.stabilize();
    expect(net.take((l) => l.includes(" heartbeat "))).toHaveLength(1);
    expect(net.get("1").readStates.map((r) => r.context)).toEqual(["a", "b", "c"]);
  });

  it("reads arriving during a round wait for the next round, each with the commit index at its arrival", () => {
    const net = elected();
    net.readIndex("1", "early");
    net.deliver(); // round 1's heartbeats reach the followers; their acks are queued
    net.propose("1", "x");
    net.deliver({ only: (m) => m.type === "app" });
    net.deliver({ only: (m) => m.type === "appResp" });
    expect(net.status("1").commit).toBe(3);
    net.readIndex("1", "late");
    net.stabilize();
    expect(net.take((l) => l.includes(" heartbeat ")).map((l) => l.split(" ").pop())).toEqual([
      "ctx=read/2/1",
      "ctx=read/2/2",
    ]);
    expect(net.get("1").readStates).toEqual([
      { index: 2, context: "early" },
      { index: 3, context: "late" },
    ]);
  });

  it("a new leader defers reads until it has committed an entry of its own term", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1");
    net.deliver().deliver(); // votes in: 1 leads term 2; its no-op is not yet acknowledged
    expect(net.status("1")).toMatchObject({ role: "leader", commit: 1 });
    net.readIndex("1", "r");
    net.processReadies();
    expect(net.queue.filter((m) => m.type === "heartbeat")).toEqual([]);
    net.stabilize();
    expect(net.get("1").readStates).toEqual([{ index: 2, context: "r" }]);
  });

  it("a leader cut off from the majority never releases a read (it may be stale)", () => {
    const net = elected();
    net.isolate("1");
    net.readIndex("1", "r");
    net.elect("2");
    net.propose("2", "newer");
    net.tick(30);
    expect(net.get("1").readStates).toEqual([]);
    expect(net.commands("2")).toEqual(["newer"]);
  });

  it("a lost acknowledgment is retried by the next heartbeat, which carries the open round", () => {
    const net = elected();
    net.readIndex("1", "r");
    net.deliver();
    net.dropAll(); // both acks lost
    net.tick(1);
    expect(net.take((l) => l.includes("heartbeatResp"))).toContain(
      "2->1 heartbeatResp t2 ctx=read/2/1",
    );
    expect(net.get("1").readStates).toEqual([{ index: 2, context: "r" }]);
  });

  it("a round asks whoever completed the last round first (on a WAN, the nearest follower)", () => {
    const net = elected();
    net.readIndex("1", "a");
    net.processReadies();
    net.isolate("2"); // the follower asked first does not answer
    net.tick(net.get("1").cfg.heartbeatIntervalTicks); // the periodic heartbeat carries the round to 3
    net.stabilize();
    expect(net.get("1").readStates.map((r) => r.context)).toEqual(["a"]);
    net.take();
    net.readIndex("1", "b");
    net.processReadies();
    expect(
      net.queue.filter((m) => m.type === "heartbeat").map((m) => `${m.to} ${m.context}`),
    ).toEqual(["3 read/2/2"]);
  });

  it("a silent follower delays a read by at most one heartbeat interval", () => {
    const net = elected();
    net.isolate("2");
    net.readIndex("1", "r");
    net.stabilize();
    expect(net.get("1").readStates).toEqual([]);
    net.tick(net.get("1").cfg.heartbeatIntervalTicks - 1);
    net.stabilize();
    expect(net.get("1").readStates).toEqual([]);
    net.tick(1);
    net.stabilize();
    expect(net.get("1").readStates).toEqual([{ index: 2, context: "r" }]);
  });

  it("with five voters a round asks two followers", () => {
    const net = new Network(["1", "2", "3", "4", "5"]);
    net.campaign("1").stabilize();
    net.take();
    net.readIndex("1", "r");
    net.processReadies();
    expect(net.queue.filter((m) => m.type === "heartbeat").map((m) => m.to)).toEqual(["2", "3"]);
    net.stabilize();
    expect(net.get("1").readStates).toEqual([{ index: 2, context: "r" }]);
  });

  it("a single-voter group answers at once", () => {
    const net = new Network(["1"]);
    net.campaign("1").stabilize();
    net.readIndex("1", "solo");
    net.processReadies();
    expect(net.get("1").readStates).toEqual([{ index: 2, context: "solo" }]);
  });
});

describe("ReadIndex on a follower", () => {
  it("asks the leader, which confirms its leadership and answers with the index", () => {
    const net = elected();
    net.propose("1", "x");
    net.stabilize();
    net.take();
    net.readIndex("3", "f");
    net.stabilize();
    expect(net.take()).toEqual([
      "3->1 readIndex t0 ctx=f",
      "1->2 heartbeat t2 commit=3 ctx=read/2/1",
      "2->1 heartbeatResp t2 ctx=read/2/1",
      "1->3 readIndexResp t2 index=3 ctx=f",
    ]);
    expect(net.get("3").readStates).toEqual([{ index: 3, context: "f" }]);
    expect(net.get("1").readStates).toEqual([]);
  });

  it("refuses with noLeader when no leader is known", () => {
    const net = new Network(["1", "2", "3"]);
    expect(net.readIndex("2", "x")).toMatchObject({ ok: false, reason: "noLeader" });
  });
});
