// Log compaction and InstallSnapshot, §7 of the Raft paper: "the leader must occasionally send
// snapshots to followers that lag behind", here in chunks ("the leader ... sends chunks of a
// snapshot to a follower in order"), each ≤ snapshotChunkBytesMax.
import { describe, expect, it } from "vitest";
import { Network } from "./harness.ts";

/** 3 lags behind a leader that compacted its log past 3's last entry. */
function lagging(overrides = {}): Network {
  const net = new Network(["1", "2", "3"], { snapshotChunkBytesMax: 16, ...overrides });
  net.campaign("1").stabilize();
  net.isolate("3");
  for (let i = 0; i < 6; i++) net.propose("1", `cmd-${i}`);
  net.stabilize();
  net.compact("1");
  net.take();
  return net;
}

describe("§7 snapshots", () => {
  it("a follower that needs compacted entries receives the snapshot in ordered chunks, one in flight", () => {
    const net = lagging();
    expect(net.status("1").firstIndex).toBe(9);
    const size = net.get("1").storage.snapshot().data.byteLength;
    expect(size).toBe(
      JSON.stringify(["cmd-0", "cmd-1", "cmd-2", "cmd-3", "cmd-4", "cmd-5"]).length,
    );
    net.heal();
    net.tick(1);
    const lines = net.take((l) => l.includes(" snap"));
    const chunks = Math.ceil(size / 16);
    expect(lines.filter((l) => l.includes(" snap t"))).toHaveLength(chunks);
    // Strictly alternating chunk / ack: the leader waits for each ack before the next chunk.
    expect(lines.slice(0, 4)).toEqual([
      "1->3 snap t2 snap=8/2 off=0 len=16",
      "3->1 snapResp t2 snap=8 off=16",
      "1->3 snap t2 snap=8/2 off=16 len=16",
      "3->1 snapResp t2 snap=8 off=32",
    ]);
    expect(lines[lines.length - 1]).toBe(
      `1->3 snap t2 snap=8/2 off=${16 * (chunks - 1)} len=${size - 16 * (chunks - 1)} done`,
    );
    expect(net.commands("3")).toEqual(net.commands("1"));
    expect(net.get("3").storage.firstIndex()).toBe(9);
    // Replication continues from the snapshot.
    net.propose("1", "after");
    net.stabilize();
    expect(net.commands("3")).toEqual([...net.commands("1")]);
    expect(net.commands("3").at(-1)).toBe("after");
    expect(net.status("1").progress?.["3"]).toMatchObject({ state: "replicate", match: 9 });
  });

  it("the leader's status says how far a snapshot has been sent (bytes confirmed, of its size)", () => {
    const net = lagging();
    const size = net.get("1").storage.snapshot().data.byteLength;
    net.heal();
    net.propose("1", "wake"); // an append 3 must refuse: the leader turns to the snapshot
    const seen: unknown[] = [];
    for (let round = 0; round < 30; round++) {
      const bytes = net.status("1").progress?.["3"]?.snapshotBytes;
      if (bytes !== undefined) seen.push(bytes);
      net.deliver();
    }
    // One chunk confirmed at a time, in order, of the snapshot's size; none once it is installed.
    expect(seen).toEqual([
      { done: 0, total: size },
      { done: 0, total: size },
      { done: 16, total: size },
      { done: 16, total: size },
      { done: 32, total: size },
      { done: 32, total: size },
      { done: 48, total: size },
      { done: 48, total: size },
    ]);
    expect(net.status("1").progress?.["3"]?.snapshotBytes).toBeUndefined();
  });

  it("a lost chunk is sent again at the next heartbeat round", () => {
    const net = lagging();
    net.heal();
    net.tickOnly(1, ["1"]);
    let droppedOnce = false;
    net.stabilize({
      drop: (m) => {
        if (droppedOnce || m.type !== "snap" || m.snapshot!.offset !== 16) return false;
        droppedOnce = true;
        return true;
      },
    });
    expect(net.take((l) => l.includes("DROPPED"))).toEqual([
      "1->3 snap t2 snap=8/2 off=16 len=16 DROPPED",
    ]);
    expect(net.commands("3")).toEqual([]);
    net.tick(2);
    expect(net.take((l) => l.includes("off=16 len=16"))).toContain(
      "1->3 snap t2 snap=8/2 off=16 len=16",
    );
    expect(net.commands("3")).toEqual(net.commands("1"));
  });

  it("a duplicated or reordered chunk is not assembled twice", () => {
    const net = lagging();
    net.heal();
    net.tickOnly(1, ["1"]);
    net.stabilize({
      drop: (m) => {
        if (m.type === "snap" && m.snapshot!.offset === 16) {
          net.get("3").raw.step(m); // an early duplicate, delivered before its predecessor's ack
          net.get("3").raw.step({ ...m, snapshot: { ...m.snapshot!, offset: 48 } }); // and a misplaced one
        }
        return false;
      },
    });
    expect(net.commands("3")).toEqual(net.commands("1"));
  });

  it("a follower whose log already holds the snapshot's last entry keeps its log and acks only the snapshot's index", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    for (const c of ["a", "b", "c"]) net.propose("1", c);
    net.deliver({ only: (m) => m.to === "3" });
    net.dropAll(); // 3 holds 3..5 but knows only commit 2
    net.take();
    const snap = {
      metadata: { index: 3, term: 2, conf: { voters: ["1", "2", "3"], learners: [] } },
      offset: 0,
      data: new Uint8Array(),
      done: true,
    };
    net.get("3").raw.step({ type: "snap", from: "1", to: "3", term: 2, snapshot: snap });
    net.deliver({ only: (m) => m.from === "3" });
    // Entries after the snapshot's index are not vouched for by it: claim only index 3.
    expect(net.take()).toEqual(["3->1 appResp t2 index=3"]);
    expect(net.status("3")).toMatchObject({ commit: 3, lastIndex: 5, firstIndex: 2 });
    expect(net.commands("3")).toEqual(["a"]);
  });

  it("no message exceeds the chunk limit, however large the snapshot", () => {
    const net = new Network(["1", "2", "3"], {
      snapshotChunkBytesMax: 1000,
      messageBytesMax: 4096,
    });
    net.campaign("1").stabilize();
    net.isolate("3");
    for (let i = 0; i < 20; i++) net.propose("1", "x".repeat(400));
    net.stabilize();
    net.compact("1");
    net.heal();
    net.tick(4);
    const snapLines = net.take((l) => l.includes(" snap t"));
    expect(snapLines.length).toBeGreaterThan(8);
    for (const l of snapLines) expect(Number(/len=(\d+)/.exec(l)![1])).toBeLessThanOrEqual(1000);
    expect(net.commands("3")).toHaveLength(20);
  });

  it("a follower ignores a snapshot that is not newer than its commit index", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.propose("1", "x");
    net.stabilize();
    net.take();
    const s3 = net.status("3");
    net.get("3").raw.step({
      type: "snap",
      from: "1",
      to: "3",
      term: 2,
      snapshot: {
        metadata: { index: 2, term: 2, conf: { voters: ["1", "2", "3"], learners: [] } },
        offset: 0,
        data: new Uint8Array(),
        done: true,
      },
    });
    net.deliver({ only: (m) => m.from === "3" });
    expect(net.take()).toEqual(["3->1 appResp t2 index=3"]);
    expect(net.status("3")).toMatchObject({
      commit: s3.commit,
      lastIndex: s3.lastIndex,
      firstIndex: s3.firstIndex,
    });
  });

  it("a member restarted after installing a snapshot restores membership and log from storage", () => {
    const net = lagging();
    net.heal().tick(2);
    net.crash("3").restart("3");
    expect(net.status("3")).toMatchObject({
      commit: 8,
      lastIndex: 8,
      conf: { voters: ["1", "2", "3"], learners: [] },
    });
    net.propose("1", "after-restart");
    net.stabilize();
    expect(net.commands("3").at(-1)).toBe("after-restart");
  });

  it("a leader compacting its own log keeps replicating to up-to-date followers from the log", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.propose("1", "a");
    net.stabilize();
    for (const id of ["1", "2", "3"]) net.compact(id);
    net.propose("1", "b");
    net.stabilize();
    expect(net.take((l) => l.includes("snap"))).toEqual([]);
    for (const id of ["1", "2", "3"]) expect(net.commands(id)).toEqual(["a", "b"]);
  });
});
