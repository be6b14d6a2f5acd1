// Log replication, §5.3 of the Raft paper, and the flow control around it.
import { describe, expect, it } from "vitest";
import { Network, enc } from "./harness.ts";

/** A 3-member group where 1 leads term 2 and everyone holds (and committed) the no-op at 2. */
function elected(overrides = {}): Network {
  const net = new Network(["1", "2", "3"], overrides);
  net.campaign("1").stabilize();
  net.take();
  return net;
}

describe("§5.3 log replication", () => {
  it("the leader appends the command, replicates it, and applies it once a majority holds it", () => {
    const net = elected();
    net.propose("1", "x");
    net.deliver();
    expect(net.take()).toEqual([
      '1->2 app t2 prev=2/2 ents=[3/2:"x"] commit=2',
      '1->3 app t2 prev=2/2 ents=[3/2:"x"] commit=2',
    ]);
    expect(net.status("1").commit).toBe(2);
    net.deliver({ only: (m) => m.from === "2" });
    expect(net.take()).toEqual(["2->1 appResp t2 index=3"]);
    expect(net.status("1").commit).toBe(3);
    expect(net.commands("1")).toEqual(["x"]);
    expect(net.commands("2")).toEqual([]); // learns the commit index from the next app
    net.stabilize();
    for (const id of ["1", "2", "3"]) expect(net.commands(id)).toEqual(["x"]);
  });

  it("a follower forwards proposals to the leader", () => {
    const net = elected();
    expect(net.propose("3", "via-3")).toEqual({ ok: true });
    net.deliver();
    expect(net.take()).toEqual(['3->1 prop t0 ents=[0/0:"via-3"]']);
    net.stabilize();
    for (const id of ["1", "2", "3"]) expect(net.commands(id)).toEqual(["via-3"]);
  });

  it("a member without a leader refuses proposals with noLeader", () => {
    const net = new Network(["1", "2", "3"]);
    expect(net.propose("1", "x")).toMatchObject({ ok: false, reason: "noLeader" });
  });

  it("the leader never commits without a majority", () => {
    const net = elected();
    net.isolate("1");
    net.propose("1", "lonely");
    net.tick(5);
    expect(net.status("1").commit).toBe(2);
    expect(net.commands("1")).toEqual([]);
  });

  it("proposals made between two Readies travel in one app message per follower (batching)", () => {
    const net = elected();
    for (const c of ["a", "b", "c", "d"]) net.propose("1", c);
    net.deliver();
    expect(net.take()).toEqual([
      '1->2 app t2 prev=2/2 ents=[3/2:"a" 4/2:"b" 5/2:"c" 6/2:"d"] commit=2',
      '1->3 app t2 prev=2/2 ents=[3/2:"a" 4/2:"b" 5/2:"c" 6/2:"d"] commit=2',
    ]);
  });

  it("an app message carries at most messageBytesMax bytes of entries (at least one entry)", () => {
    const net = elected({ messageBytesMax: 10 });
    for (const c of ["aaaa", "bbbb", "cccc", "dddddddd"]) net.propose("1", c);
    net.deliver({ only: (m) => m.to === "2" });
    expect(net.take()).toEqual([
      '1->2 app t2 prev=2/2 ents=[3/2:"aaaa" 4/2:"bbbb"] commit=2',
      '1->2 app t2 prev=4/2 ents=[5/2:"cccc"] commit=2',
      '1->2 app t2 prev=5/2 ents=[6/2:"dddddddd"] commit=2',
    ]);
    expect(net.propose("1", "x".repeat(11))).toMatchObject({ ok: false, reason: "tooLarge" });
  });

  it("pipelining stops at inflightMessagesMax unacknowledged messages per follower", () => {
    const net = elected({ inflightMessagesMax: 2 });
    for (const c of ["a", "b", "c", "d"]) {
      net.propose("1", c);
      net.processReadies();
    }
    net.deliver({ only: (m) => m.from === "1" && m.to === "2" });
    expect(net.take()).toEqual([
      '1->2 app t2 prev=2/2 ents=[3/2:"a"] commit=2',
      '1->2 app t2 prev=3/2 ents=[4/2:"b"] commit=2',
    ]);
    expect(net.status("1").progress?.["2"]).toMatchObject({
      state: "replicate",
      inflightMessages: 2,
      next: 5,
    });
    // The acks open the window; the rest goes out in one message.
    net.deliver({ only: (m) => m.from === "2" });
    net.deliver({ only: (m) => m.from === "1" && m.to === "2" && m.type === "app" });
    expect(net.take().filter((l) => l.startsWith("1->2 app") && l.includes("ents"))).toEqual([
      '1->2 app t2 prev=4/2 ents=[5/2:"c" 6/2:"d"] commit=3',
    ]);
  });

  it("a heartbeat never tells a follower to commit beyond what it is known to hold", () => {
    const net = elected();
    net.cut("1", "3");
    net.propose("1", "x");
    net.stabilize();
    net.heal().take();
    net.tickOnly(1, ["1"]);
    net.deliver({ only: (m) => m.type === "heartbeat" });
    expect(net.take()).toEqual(["1->2 heartbeat t2 commit=3", "1->3 heartbeat t2 commit=2"]);
    expect(net.status("3").commit).toBe(2);
    net.stabilize();
    expect(net.commands("3")).toEqual(["x"]);
  });

  it("the leader refuses proposals beyond uncommittedBytesMax until the log commits", () => {
    const net = elected({ uncommittedBytesMax: 8 });
    net.isolate("1");
    expect(net.propose("1", "12345")).toEqual({ ok: true });
    expect(net.propose("1", "678")).toEqual({ ok: true });
    expect(net.propose("1", "9")).toMatchObject({ ok: false, reason: "backpressure" });
    net.heal().stabilize();
    expect(net.propose("1", "9")).toEqual({ ok: true });
  });
});

describe("§5.3 log matching and repair", () => {
  /** 1 led term 2 and appended x1..x3 alone; 2 then led term 3 and committed y. */
  function diverged(): Network {
    const net = elected();
    net.isolate("1");
    for (const c of ["x1", "x2", "x3"]) net.propose("1", c);
    net.stabilize();
    net.campaign("2").stabilize();
    net.propose("2", "y");
    net.stabilize();
    net.take();
    return net;
  }

  it("the leader forces a follower's conflicting entries to be overwritten by its own", () => {
    const net = diverged();
    expect(net.status("1")).toMatchObject({ term: 2, lastIndex: 5, commit: 2 });
    net.heal();
    net.tick(1, ["2"]);
    net.stabilize();
    const s1 = net.get("1").storage;
    const s2 = net.get("2").storage;
    expect(s1.lastIndex()).toBe(s2.lastIndex());
    expect(s1.entries(3, s1.lastIndex() + 1, Infinity)).toEqual(
      s2.entries(3, s2.lastIndex() + 1, Infinity),
    );
    expect(net.commands("1")).toEqual(["y"]);
    net.checkLogMatching();
  });

  it("AppendEntries fails the consistency check when the entry at prevIndex has another term", () => {
    const net = diverged();
    net.heal();
    // 2's log: 3/3:- 4/3:y; 1's log: 3/2:x1 4/2:x2 5/2:x3.
    net.get("1").raw.step({
      type: "app",
      from: "2",
      to: "1",
      term: 3,
      index: 4,
      logTerm: 3,
      entries: [{ index: 5, term: 3, type: "normal", data: enc("z") }],
      commit: 4,
    });
    net.deliver({ only: (m) => m.from === "1" && m.to === "2" });
    // Rejected, with a hint: 1's last entry with term ≤ 3 at or before index 4 is 4/2.
    expect(net.take()).toEqual(["1->2 appResp t3 reject index=4 hint=4/2"]);
    expect(net.get("1").storage.term(5)).toBe(2);
    expect(net.status("1")).toMatchObject({ commit: 2, lastIndex: 5, term: 3, leader: "2" });
    expect(net.commands("1")).toEqual([]);
  });

  it("a follower commits at most through the last entry the message vouches for (min(leaderCommit, last new))", () => {
    const net = new Network(["1", "2", "3", "4", "5"]);
    net.campaign("1").stabilize();
    // 1 (term 2) puts "x" at 3 on 3 only, then dies; 2 leads term 3 and commits 3/3 and 4/3:y.
    net.propose("1", "x");
    net.deliver({ only: (m) => m.to === "3" });
    net.dropAll();
    net.crash("1").isolate("3");
    net.elect("2");
    net.propose("2", "y");
    net.stabilize();
    expect(net.status("2").commit).toBe(4);
    net.heal().take();
    // A delayed app from 2 reaches 3: it vouches only for index 2, although 3 holds 3/2:x.
    net.get("3").raw.step({
      type: "app",
      from: "2",
      to: "3",
      term: 3,
      index: 2,
      logTerm: 2,
      entries: [],
      commit: 4,
    });
    net.deliver({ only: (m) => m.from === "3" && m.to === "2" });
    expect(net.take()).toEqual(["3->2 appResp t3 index=2"]);
    expect(net.status("3").commit).toBe(2);
    expect(net.commands("3")).toEqual([]);
    net.tick(1);
    expect(net.commands("3")).toEqual(["y"]);
  });

  it("fast backtracking skips a whole conflicting term per round trip", () => {
    const net = elected();
    net.isolate("1");
    for (let i = 0; i < 30; i++) net.propose("1", `stale${i}`);
    net.stabilize();
    net.campaign("2").stabilize();
    for (let i = 0; i < 30; i++) net.propose("2", `fresh${i}`);
    net.stabilize();
    net.take();
    net.heal();
    net.tick(1, ["2"]);
    net.stabilize();
    const rejects = net.take((l) => l.includes("reject"));
    expect(rejects.length).toBeLessThanOrEqual(2);
    expect(net.commands("1")).toEqual(net.commands("2"));
    net.checkLogMatching();
  });

  it("a follower that lost entries rejects the next app, and is then probed one message at a time", () => {
    const net = elected();
    net.propose("1", "a");
    net.stabilize({ drop: (m) => m.to === "3" });
    net.take();
    // Optimistic: the leader does not know the message was lost.
    expect(net.status("1").progress?.["3"]).toMatchObject({ state: "replicate", next: 4 });
    net.propose("1", "b");
    net.deliver({ only: (m) => m.to === "3" });
    net.deliver({ only: (m) => m.from === "3" });
    expect(net.take()).toEqual([
      '1->3 app t2 prev=3/2 ents=[4/2:"b"] commit=3',
      "3->1 appResp t2 reject index=3 hint=2/2",
    ]);
    expect(net.status("1").progress?.["3"]).toMatchObject({ state: "probe", next: 3 });
    net.propose("1", "c");
    net.deliver({ only: (m) => m.to === "3" });
    // One probe (from index 3) is in flight; "c" is not sent to 3 until it is answered.
    expect(net.take()).toEqual(['1->3 app t2 prev=2/2 ents=[3/2:"a" 4/2:"b"] commit=3']);
    net.deliver({ only: (m) => m.to === "3" });
    expect(net.take()).toEqual([]);
    net.stabilize();
    expect(net.commands("3")).toEqual(["a", "b", "c"]);
    expect(net.status("1").progress?.["3"]?.state).toBe("replicate");
  });
});

describe("§5.4.2 committing entries from previous terms", () => {
  it("Figure 8: an old-term entry on a majority is not committed by counting; it may still be overwritten", () => {
    const net = new Network(["1", "2", "3", "4", "5"]);
    net.campaign("1").stabilize();
    // (a) S1 leads term 2 and replicates "a" (index 3) to S2 only.
    net.propose("1", "a");
    net.deliver({ drop: (m) => m.from === "1" && m.to !== "2" });
    net.dropAll();
    // (b) S1 crashes; S5 wins term 3 with votes of S3 and S4, appends its no-op and "b" alone.
    net.crash("1").cut("5", "2");
    net.campaign("5").deliver().deliver();
    expect(net.status("5")).toMatchObject({ role: "leader", term: 3 });
    net.propose("5", "b");
    net.processReadies();
    net.dropAll();
    // (c) S5 crashes; S1 restarts and wins term 4 (S5's term 3 made it lose once).
    net.crash("5").restart("1").heal();
    net.elect("1", { only: (m) => m.type !== "app" && m.type !== "appResp" });
    net.dropAll();
    expect(net.status("1")).toMatchObject({ role: "leader", term: 4 });
    net.take();
    // S1 replicates the old entry 3/2 (only) to S3: now S1, S2, S3 hold it, a majority.
    net.get("3").raw.step({
      type: "app",
      from: "1",
      to: "3",
      term: 4,
      index: 2,
      logTerm: 2,
      entries: net.get("1").storage.entries(3, 4, Infinity),
      commit: 2,
    });
    net.deliver({ only: (m) => m.from === "3" && m.to === "1" });
    net.get("2").raw.step({
      type: "app",
      from: "1",
      to: "2",
      term: 4,
      index: 2,
      logTerm: 2,
      entries: net.get("1").storage.entries(3, 4, Infinity),
      commit: 2,
    });
    net.deliver({ only: (m) => m.from === "2" && m.to === "1" });
    expect(net.take()).toEqual(["3->1 appResp t4 index=3", "2->1 appResp t4 index=3"]);
    expect(net.status("1").progress).toMatchObject({ "2": { match: 3 }, "3": { match: 3 } });
    // Not committed: its term (2) is not the leader's (4).
    expect(net.status("1").commit).toBe(2);
    net.dropAll();
    // (d) S1 crashes; S5 can still win (its last term 3 beats their 2) and overwrite index 3.
    net.crash("1").restart("5");
    net.elect("5");
    expect(net.status("5")).toMatchObject({ role: "leader", term: 5 });
    for (const id of ["2", "3", "4", "5"]) expect(net.commands(id)).toEqual(["b"]);
    net.checkLogMatching();
  });

  it("entries from previous terms commit indirectly, once an entry of the current term commits", () => {
    const net = elected();
    net.propose("1", "old");
    net.deliver({ only: (m) => m.to === "2" }); // only 2 gets it; no ack reaches 1
    net.dropAll();
    net.isolate("1");
    net.campaign("2").stabilize(); // 2 (with "old") wins term 3 with 3's vote
    expect(net.status("2").role).toBe("leader");
    expect(net.commands("2")).toEqual(["old"]);
    expect(net.status("2").commit).toBe(4); // "old" at 3 committed together with the no-op 4/3
  });
});
