// Leader election, §5.2 and §5.4.1 of the Raft paper (Ongaro & Ousterhout, 2014).
import { describe, expect, it } from "vitest";
import { Network } from "./harness.ts";

describe("§5.2 leader election", () => {
  it("a candidate that wins votes from a majority becomes leader and appends an empty entry of its term", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    expect(net.take().slice(0, 6)).toEqual([
      "1->2 vote t2 last=1/1",
      "1->3 vote t2 last=1/1",
      "2->1 voteResp t2 granted",
      "3->1 voteResp t2 granted",
      "1->2 app t2 prev=1/1 ents=[2/2:-] commit=1",
      "1->3 app t2 prev=1/1 ents=[2/2:-] commit=1",
    ]);
    for (const id of ["1", "2", "3"]) {
      expect(net.status(id)).toMatchObject({ term: 2, leader: "1", commit: 2 });
    }
    expect(net.status("1").role).toBe("leader");
  });

  it("a candidate without a majority does not become leader", () => {
    const net = new Network(["1", "2", "3", "4", "5"]);
    net.cut("1", "3").cut("1", "4").cut("1", "5");
    net.campaign("1").stabilize();
    expect(net.status("1").role).toBe("candidate");
    expect(net.leader()).toBeUndefined();
  });

  it("each server votes for at most one candidate in a given term, first-come-first-served", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").campaign("3");
    net.deliver({ only: (m) => m.to === "2" && m.from === "1" });
    net.deliver({ only: (m) => m.to === "2" && m.from === "3" });
    expect(net.take()).toEqual(["1->2 vote t2 last=1/1", "3->2 vote t2 last=1/1"]);
    net.deliver({ only: (m) => m.from === "2" });
    expect(net.take()).toEqual(["2->1 voteResp t2 granted", "2->3 voteResp t2 rejected"]);
    net.stabilize();
    expect(net.leader()).toBe("1");
  });

  it("the vote survives a crash: a restarted server does not vote again in the same term", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1");
    net.deliver({ only: (m) => m.to === "2" });
    net.processReadies();
    expect(net.get("2").storage.initialState().hardState).toMatchObject({ term: 2, vote: "1" });
    net.dropAll();
    net.crash("2").restart("2");
    expect(net.status("2")).toMatchObject({ term: 2, vote: "1" });
    net.campaign("3"); // 3 campaigns in term 2 too (it never heard of 1's candidacy)
    net.take();
    net.deliver({ only: (m) => m.from === "3" && m.to === "2" });
    net.deliver({ only: (m) => m.from === "2" });
    expect(net.take()).toEqual(["3->2 vote t2 last=1/1", "2->3 voteResp t2 rejected"]);
  });

  it("a vote granted in a term the voter already adopted is persisted before the answer leaves", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.isolate("3");
    net.propose("1", "x");
    net.stabilize();
    net.heal().crash("1").restart("1").take(); // 1 restarts as a follower of term 2
    net.campaign("3").campaign("1"); // both candidates in term 3; 3's log is behind
    net.deliver({ only: (m) => m.from === "3" && m.to === "2" });
    expect(net.status("2")).toMatchObject({ term: 3, vote: "" }); // adopted the term, refused
    net.deliver({ only: (m) => m.from === "1" && m.to === "2" });
    net.processReadies();
    // The harness checks that the stored vote is 1 when this answer is sent.
    expect(net.take()).toEqual(["3->2 vote t3 last=2/2", "1->2 vote t3 last=3/2"]);
    expect(
      net.queue
        .filter((m) => m.from === "2")
        .map((m) => `${m.type} ${m.reject === true ? "rejected" : "granted"}`),
    ).toEqual(["voteResp rejected", "voteResp granted"]);
    expect(net.get("2").storage.initialState().hardState).toMatchObject({ term: 3, vote: "1" });
  });

  it("randomized election timeouts lie in [electionTimeoutTicks, 2*electionTimeoutTicks)", () => {
    const fired = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const net = new Network(["1", "2", "3"], { seed });
      let ticks = 0;
      while (net.status("1").role === "follower") {
        net.get("1").raw.tick();
        ticks++;
      }
      fired.add(ticks);
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
    }
    // The jitter is real: several distinct timeouts occur across seeds.
    expect(fired.size).toBeGreaterThan(4);
  });

  it("a leader emerges from ticks alone and followers keep it while it heartbeats", () => {
    const net = new Network(["1", "2", "3"]);
    net.tick(25).stabilize();
    const leader = net.leader();
    expect(leader).toBeDefined();
    const term = net.status(leader!).term;
    net.tick(100).stabilize();
    expect(net.leader()).toBe(leader);
    expect(net.status(leader!).term).toBe(term);
  });

  it("a split vote is resolved by a later election with a higher term", () => {
    const net = new Network(["1", "2", "3", "4"]);
    net.cut("1", "3").cut("1", "4").cut("2", "3").cut("2", "4");
    net.campaign("1").campaign("3").stabilize();
    expect(net.leader()).toBeUndefined();
    net.heal();
    net.tick(40).stabilize();
    expect(net.leader()).toBeDefined();
    expect(net.status(net.leader()!).term).toBeGreaterThan(2);
  });

  it("while waiting for votes, a candidate that receives AppendEntries from a leader of its term becomes follower", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1");
    net.deliver({ only: (m) => m.to === "2" }); // 2 votes for 1
    net.campaign("3"); // 3 is a candidate in term 2 as well
    net.deliver({ drop: (m) => m.from === "3" }); // 1 wins with 2's vote; 3's requests are lost
    net.stabilize();
    expect(net.status("3")).toMatchObject({ role: "follower", term: 2, leader: "1" });
  });
});

describe("§5.4.1 election restriction", () => {
  it("a voter denies its vote to a candidate whose log is less up to date (lower last term)", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.isolate("3");
    net.propose("1", "x");
    net.stabilize();
    net.heal();
    // 3 lacks index 3; its last entry is 2/2 while 1 and 2 hold 3/2.
    net.campaign("3");
    net.stabilize();
    const votes = net.take((l) => l.includes("voteResp t3"));
    expect(votes).toEqual(["1->3 voteResp t3 rejected", "2->3 voteResp t3 rejected"]);
    expect(net.status("3").role).not.toBe("leader");
  });

  it("a longer log with an older last term is less up to date", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.isolate("1");
    for (const c of ["a", "b", "c"]) net.propose("1", c); // 1: ... 3/2 4/2 5/2
    net.processReadies();
    net.dropAll();
    net.elect("2"); // 2: ... 3/3 (no-op)
    net.crash("2").crash("1").restart("1");
    net.heal();
    net.campaign("1").stabilize(); // term 3: refused by 3, which voted for 2 in term 3
    net.take();
    net.campaign("1"); // term 4: 3 now judges the logs alone
    net.deliver({ only: (m) => m.to === "3" });
    net.deliver({ only: (m) => m.from === "3" });
    expect(net.take()).toEqual(["1->3 vote t4 last=5/2", "3->1 voteResp t4 rejected"]);
  });

  it("with equal last terms the longer log is more up to date", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.isolate("3");
    net.propose("1", "x");
    net.stabilize();
    net.heal().take();
    net.campaign("2").stabilize();
    expect(net.take((l) => l.startsWith("3->2 voteResp"))).toEqual(["3->2 voteResp t3 granted"]);
    expect(net.leader()).toBe("2");
  });
});

describe("§5.1 terms", () => {
  it("a server that sees a higher term in a response steps down to follower", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.isolate("1");
    net.campaign("2").stabilize();
    expect(net.status("2")).toMatchObject({ role: "leader", term: 3 });
    net.heal();
    net.propose("1", "stale");
    net.stabilize();
    expect(net.status("1")).toMatchObject({ role: "follower", term: 3 });
    net.tick(1);
    expect(net.status("1")).toMatchObject({ role: "follower", term: 3, leader: "2" });
    expect(net.commands("1")).not.toContain("stale");
    expect(net.get("1").storage.entries(3, 4, Infinity)[0]?.term).toBe(3); // "stale" was overwritten
  });

  it("a request with a stale term is rejected and does not touch the log", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.isolate("1");
    net.campaign("2").stabilize();
    const lastBefore = net.status("3").lastIndex;
    net.heal().take();
    net.propose("1", "stale"); // old leader 1 (term 2) replicates to 3 (term 3)
    net.deliver({ only: (m) => m.from === "1" && m.to === "3" });
    net.deliver({ only: (m) => m.from === "3" && m.to === "1" });
    expect(net.take()).toEqual([
      '1->3 app t2 prev=2/2 ents=[3/2:"stale"] commit=2',
      "3->1 appResp t3",
    ]);
    expect(net.status("3")).toMatchObject({ term: 3, leader: "2", lastIndex: lastBefore });
    expect(net.status("1")).toMatchObject({ role: "follower", term: 3 });
  });

  it("a stale vote request is ignored", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.campaign("2").stabilize(); // term 3, 2 leads
    net.take();
    net.get("3").raw.step({ type: "vote", from: "1", to: "3", term: 2, index: 99, logTerm: 2 });
    net.deliver();
    expect(net.take().filter((l) => l.includes("voteResp"))).toEqual([]);
    expect(net.status("3")).toMatchObject({ term: 3, vote: "2" });
  });
});
