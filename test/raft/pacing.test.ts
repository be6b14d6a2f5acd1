// Catch-up pacing (src/raft/pacing.ts): a learner is sent at most learnerBytesPerTick of entries
// and snapshot chunks per tick, so its catch-up is spread over ticks; voters are never held back.
import { describe, expect, it } from "vitest";
import { Network } from "./harness.ts";

/** Every command is 10 bytes: a budget of 40 bytes is four entries a tick. */
const command = (i: number) => `cmd-${String(i).padStart(6, "0")}`;
const paced = { learnerBytesPerTick: 40 };

/** Voters 1-3 with `entries` commands applied, and an empty member L just added as a learner. */
function withLearner(entries: number, overrides = {}): Network {
  const net = new Network(["1", "2", "3"], { ...paced, ...overrides });
  net.campaign("1").stabilize();
  for (let i = 0; i < entries; i++) net.propose("1", command(i));
  net.stabilize();
  net.addMember("L", { ...paced, ...overrides });
  net.proposeConf("1", { type: "addLearner", nodeId: "L" });
  return net;
}

/** Entry data bytes in the delivered `app` lines (formatted as ents=[i/t:"data" ...]). */
function entryBytesIn(lines: string[]): number {
  return lines.reduce(
    (sum, l) => sum + [...l.matchAll(/:"([^"]*)"/g)].reduce((n, m) => n + m[1]!.length, 0),
    0,
  );
}

describe("catch-up pacing", () => {
  it("a learner far behind is sent at most its budget per tick, and still catches up", () => {
    const net = withLearner(40);
    net.stabilize();
    const target = net.status("1").lastIndex;
    let ticks = 0;
    for (; net.status("L").lastIndex < target && ticks < 50; ticks++) {
      net.take();
      net.tick(1);
      // One entry may overshoot what is left of a budget: at least one entry leaves per message.
      expect(entryBytesIn(net.take((l) => l.startsWith("1->L app")))).toBeLessThanOrEqual(40 + 10);
    }
    expect(net.status("L").lastIndex).toBe(target);
    // 40 commands of 10 bytes at four a tick: about ten ticks, not one burst.
    expect(ticks).toBeGreaterThanOrEqual(9);
    expect(net.commands("L")).toEqual(net.commands("1"));
  });

  it("voters are never paced: a burst of proposals commits with no tick while a learner lags", () => {
    const net = withLearner(10);
    net.stabilize().tick(1); // a tick refills every budget the leader keeps
    const before = net.status("1").commit;
    for (let i = 0; i < 30; i++) net.propose("1", command(100 + i));
    net.stabilize();
    expect(net.status("1").commit).toBe(before + 30);
    expect(net.status("2").lastIndex).toBe(before + 30);
    expect(net.status("L").lastIndex).toBeLessThan(before + 30);
  });

  it("a snapshot reaches a paced learner in chunks of its budget, one per tick", () => {
    const net = withLearner(20, { snapshotChunkBytesMax: 1024 });
    net.stabilize();
    net.compact("1");
    // L lags behind the compaction point: only a snapshot can catch it up now.
    net.isolate("L");
    for (let i = 0; i < 4; i++) net.propose("1", command(50 + i));
    net.stabilize();
    net.compact("1");
    const size = net.get("1").storage.snapshot().data.byteLength;
    expect(size).toBeGreaterThan(3 * 40);
    net.heal();
    net.take();
    const perTick: number[] = [];
    for (let t = 0; t < 20 && net.status("L").lastIndex < net.status("1").lastIndex; t++) {
      net.tick(1);
      perTick.push(net.take((l) => l.startsWith("1->L snap t")).length);
    }
    const chunks = Math.ceil(size / 40);
    expect(perTick.filter((n) => n > 0)).toEqual(Array(chunks).fill(1));
    expect(net.commands("L")).toEqual(net.commands("1"));
  });

  it("a promoted learner is sent at full speed again", () => {
    const net = withLearner(0);
    net.stabilize();
    net.proposeConf("1", { type: "promoteLearner", nodeId: "L" });
    net.stabilize();
    expect(net.status("1").conf.voters).toContain("L");
    for (let i = 0; i < 30; i++) net.propose("1", command(i));
    net.stabilize();
    expect(net.status("L").lastIndex).toBe(net.status("1").lastIndex);
  });
});
