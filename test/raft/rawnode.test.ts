// The RawNode contract: bootstrap, restart from storage, the Ready/advance protocol, config
// validation, and the small pure pieces (quorum arithmetic, PRNG, conf-change encoding).
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/index.ts";
import { decodeConfChange, encodeConfChange } from "../../src/raft/confchange.ts";
import { MemoryStorage } from "../../src/raft/memory-storage.ts";
import { committedIndex, voteResult } from "../../src/raft/quorum.ts";
import { Rand } from "../../src/raft/rand.ts";
import { RawNode, bootstrap } from "../../src/raft/rawnode.ts";
import { Network, config, enc, singleVoterStorage } from "./harness.ts";

function single(): { node: RawNode; storage: MemoryStorage } {
  const storage = singleVoterStorage();
  return { node: new RawNode(config("1"), storage), storage };
}

function handle(node: RawNode, storage: MemoryStorage): void {
  while (node.hasReady()) {
    const rd = node.ready();
    if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
    storage.append(rd.entries);
    if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
    node.advance();
  }
}

describe("bootstrap", () => {
  it("writes the membership in a snapshot at index 1, term 1", () => {
    const storage = new MemoryStorage();
    bootstrap(storage, { voters: ["a", "b", "c"], learners: ["d"] });
    expect(storage.initialState()).toEqual({
      hardState: { term: 1, vote: "", commit: 1 },
      confState: { voters: ["a", "b", "c"], learners: ["d"] },
    });
    expect(storage.snapshot().metadata).toMatchObject({ index: 1, term: 1 });
    const node = new RawNode(config("a"), storage);
    expect(node.status()).toMatchObject({
      term: 1,
      commit: 1,
      applied: 1,
      lastIndex: 1,
      role: "follower",
      leader: "",
    });
  });

  it("refuses non-empty storage and an empty voter set", () => {
    const { storage } = single();
    expect(() => bootstrap(storage, { voters: ["1"], learners: [] })).toThrow(AssertionError);
    expect(() => bootstrap(new MemoryStorage(), { voters: [], learners: ["x"] })).toThrow(
      AssertionError,
    );
  });

  it("a member with empty storage is not a voter and never campaigns", () => {
    const node = new RawNode(config("new"), new MemoryStorage());
    for (let i = 0; i < 100; i++) node.tick();
    node.campaign();
    expect(node.status()).toMatchObject({
      role: "follower",
      term: 0,
      conf: { voters: [], learners: [] },
    });
  });
});

describe("Ready and advance", () => {
  it("a single voter elects itself and commits through Readies", () => {
    const { node, storage } = single();
    node.campaign();
    expect(node.hasReady()).toBe(true);
    const rd = node.ready();
    expect(rd.softState).toEqual({ leader: "1", role: "leader" });
    expect(rd.hardState).toEqual({ term: 2, vote: "1", commit: 2 });
    expect(rd.entries.map((e) => [e.index, e.term])).toEqual([[2, 2]]);
    // Committed entries may include entries of this same Ready: the caller persists first.
    expect(rd.committedEntries.map((e) => e.index)).toEqual([2]);
    expect(rd.messages).toEqual([]);
    storage.append(rd.entries);
    storage.setHardState(rd.hardState!);
    node.advance();
    expect(node.hasReady()).toBe(false);
    expect(node.status()).toMatchObject({ applied: 2, commit: 2 });
    node.propose(enc("x"));
    handle(node, storage);
    expect(node.status()).toMatchObject({ applied: 3, commit: 3, lastIndex: 3 });
  });

  it("ready() twice without advance(), or advance() without ready(), is a programming error", () => {
    const { node } = single();
    node.campaign();
    node.ready();
    expect(() => node.ready()).toThrow(AssertionError);
    node.advance();
    expect(() => node.advance()).toThrow(AssertionError);
  });

  it("a Ready carries the hard state together with the vote it grants", () => {
    const storage = new MemoryStorage();
    bootstrap(storage, { voters: ["1", "2", "3"], learners: [] });
    const node = new RawNode(config("2"), storage);
    node.step({ type: "vote", from: "1", to: "2", term: 2, index: 1, logTerm: 1 });
    const rd = node.ready();
    expect(rd.hardState).toEqual({ term: 2, vote: "1", commit: 1 });
    expect(rd.messages).toEqual([{ type: "voteResp", from: "2", to: "1", term: 2 }]);
  });

  it("messages stepped between ready() and advance() are not lost, even when they replace handed-out entries", () => {
    const storage = new MemoryStorage();
    bootstrap(storage, { voters: ["1", "2", "3"], learners: [] });
    const node = new RawNode(config("2"), storage);
    const e = (index: number, term: number) => ({
      index,
      term,
      type: "normal" as const,
      data: enc(`${index}/${term}`),
    });
    node.step({
      type: "app",
      from: "1",
      to: "2",
      term: 2,
      index: 1,
      logTerm: 1,
      entries: [e(2, 2), e(3, 2)],
      commit: 1,
    });
    const first = node.ready();
    expect(first.entries.map((x) => `${x.index}/${x.term}`)).toEqual(["2/2", "3/2"]);
    // Before the caller finishes, a new leader overwrites index 2 (and so drops 3).
    node.step({
      type: "app",
      from: "3",
      to: "2",
      term: 3,
      index: 1,
      logTerm: 1,
      entries: [e(2, 3)],
      commit: 1,
    });
    storage.append(first.entries);
    storage.setHardState(first.hardState!);
    node.advance();
    const second = node.ready();
    expect(second.entries.map((x) => `${x.index}/${x.term}`)).toEqual(["2/3"]);
    expect(second.messages.map((m) => `${m.to} ${m.type} ${m.index}`)).toEqual(["3 appResp 2"]);
    storage.append(second.entries);
    node.advance();
    expect(storage.lastIndex()).toBe(2);
    expect(storage.term(2)).toBe(3);
  });

  it("ignores messages addressed to another member", () => {
    const storage = new MemoryStorage();
    bootstrap(storage, { voters: ["1", "2", "3"], learners: [] });
    const node = new RawNode(config("2"), storage);
    node.step({ type: "vote", from: "1", to: "3", term: 2, index: 1, logTerm: 1 });
    expect(node.hasReady()).toBe(false);
  });

  it("the leader reports progress per member; followers do not", () => {
    const net = new Network(["1", "2"]);
    net.campaign("1").stabilize();
    expect(Object.keys(net.status("1").progress ?? {}).sort()).toEqual(["1", "2"]);
    expect(net.status("2").progress).toBeUndefined();
  });
});

describe("restart from storage", () => {
  it("restores term, vote, commit, log and membership; re-delivers committed entries after the snapshot", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.addMember("4");
    net.proposeConf("1", { type: "addLearner", nodeId: "4" });
    net.propose("1", "x");
    net.stabilize();
    const storage = net.get("2").storage;
    const node = new RawNode(config("2"), storage);
    expect(node.status()).toMatchObject({
      term: 2,
      vote: "1",
      commit: 4,
      applied: 1,
      lastIndex: 4,
      conf: { voters: ["1", "2", "3"], learners: ["4"] },
    });
    const rd = node.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([2, 3, 4]);
    expect(rd.hardState).toBeUndefined(); // nothing changed
  });

  it("config.appliedIndex skips entries the state machine already holds", () => {
    const net = new Network(["1", "2", "3"]);
    net.campaign("1").stabilize();
    net.propose("1", "x");
    net.stabilize();
    const node = new RawNode(config("2", { appliedIndex: 3 }), net.get("2").storage);
    expect(node.status().applied).toBe(3);
    expect(node.hasReady()).toBe(false);
  });
});

describe("config validation", () => {
  it.each([
    [
      "electionTimeoutTicks not above heartbeatIntervalTicks",
      { electionTimeoutTicks: 1, heartbeatIntervalTicks: 1 },
    ],
    ["messages above 2 MiB", { messageBytesMax: 2 * 1024 * 1024 + 1 }],
    ["snapshot chunks above 1 MiB", { snapshotChunkBytesMax: 2 * 1024 * 1024 }],
    ["an empty pipelining window", { inflightMessagesMax: 0 }],
    ["an empty id", { id: "" }],
    ["readLeaseMs equal to voteRefusalMs", { readLeaseMs: 500, voteRefusalMs: 500 }],
    ["readLeaseMs above voteRefusalMs", { readLeaseMs: 600, voteRefusalMs: 500 }],
    ["readLeaseMs without voteRefusalMs", { readLeaseMs: 250 }],
    ["a negative readLeaseMs", { readLeaseMs: -1, voteRefusalMs: 500 }],
  ])("rejects %s", (_name, overrides) => {
    expect(() => new RawNode(config("1", overrides), singleVoterStorage())).toThrow(AssertionError);
  });
});

describe("pure pieces", () => {
  it("committedIndex is the highest index held by a majority", () => {
    const match: Record<string, number> = { a: 5, b: 3, c: 9, d: 1, e: 3 };
    expect(committedIndex(["a", "b", "c", "d", "e"], (id) => match[id]!)).toBe(3);
    expect(committedIndex(["a", "c"], (id) => match[id]!)).toBe(5);
    expect(committedIndex(["a", "b", "c", "d"], (id) => match[id]!)).toBe(3);
  });

  it("voteResult counts only voters and knows when a vote is lost", () => {
    const votes = new Map([
      ["a", true],
      ["b", false],
      ["x", true],
    ]);
    expect(voteResult(["a", "b", "c"], votes)).toBe("pending");
    votes.set("c", true);
    expect(voteResult(["a", "b", "c"], votes)).toBe("won");
    expect(
      voteResult(
        ["a", "b", "c", "d"],
        new Map([
          ["b", false],
          ["c", false],
        ]),
      ),
    ).toBe("lost");
  });

  it("the PRNG is deterministic per seed and uniform enough", () => {
    const a = new Rand(42);
    const b = new Rand(42);
    const seq = Array.from({ length: 5 }, () => a.intBelow(1000));
    expect(Array.from({ length: 5 }, () => b.intBelow(1000))).toEqual(seq);
    expect(new Rand(43).intBelow(1000)).not.toBe(seq[0]);
    const buckets = [0, 0, 0, 0];
    const r = new Rand(7);
    for (let i = 0; i < 4000; i++) buckets[r.intBelow(4)]!++;
    for (const n of buckets) expect(n).toBeGreaterThan(850);
  });

  it("conf changes round-trip and garbage is refused", () => {
    const cc = { type: "promoteLearner" as const, nodeId: "eu-west-7" };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
    expect(() => decodeConfChange(enc('{"type":"nuke","nodeId":"x"}'))).toThrow();
    expect(() => decodeConfChange(enc("not json"))).toThrow();
  });
});

describe("purity", () => {
  it("src/raft does no I/O and reads no clock or ambient randomness", () => {
    const dir = fileURLToPath(new URL("../../src/raft/", import.meta.url).href);
    const forbidden = [
      /\bDate\b/,
      /Math\.random/,
      /setTimeout|setInterval/,
      /from "cloudflare:/,
      /from "hono/,
      /from "node:/,
      /\bfetch\(/,
      /\bconsole\./,
    ];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const code = readFileSync(`${dir}/${file}`, "utf8")
        .split("\n")
        .filter((line) => !line.trim().startsWith("//") && !line.trim().startsWith("*"))
        .join("\n");
      for (const pattern of forbidden)
        expect(code, `${file} matches ${pattern}`).not.toMatch(pattern);
    }
  });
});
