// The leader's view of one follower (etcd's tracker.Progress, and its tests): where the logs
// match, what to send next, and when to wait. Probe sends one message and waits; replicate
// pipelines up to the window; snapshot waits for the snapshot.
import { describe, expect, it } from "vitest";
import { Progress } from "../../src/raft/progress.ts";
import type { Snapshot } from "../../src/raft/types.ts";
import { enc } from "./harness.ts";

function snapshot(index: number): Snapshot {
  return { metadata: { index, term: 2, conf: { voters: ["1"], learners: [] } }, data: enc("s") };
}

function progress(state: "probe" | "replicate", match: number, next: number): Progress {
  const pr = new Progress(next, 4, false);
  pr.match = match;
  if (state === "replicate") {
    pr.becomeReplicate();
    pr.next = next;
  }
  return pr;
}

describe("acknowledgments", () => {
  it("an ack moves match and next forward only; an older or repeated one is stale", () => {
    const pr = progress("replicate", 3, 6);
    expect(pr.maybeUpdate(2)).toBe(false);
    expect(pr.maybeUpdate(3)).toBe(false);
    expect([pr.match, pr.next]).toEqual([3, 6]);
    expect(pr.maybeUpdate(4)).toBe(true);
    expect([pr.match, pr.next]).toEqual([4, 6]);
    expect(pr.maybeUpdate(8)).toBe(true);
    expect([pr.match, pr.next]).toEqual([8, 9]);
  });

  it("an ack ends a probe's wait", () => {
    const pr = progress("probe", 3, 4);
    pr.sentEntries(5, 2, 2);
    expect(pr.isPaused()).toBe(true);
    pr.maybeUpdate(3);
    expect(pr.isPaused()).toBe(true); // stale: still waiting
    pr.maybeUpdate(5);
    expect(pr.isPaused()).toBe(false);
  });
});

describe("rejections (§5.3: decrement nextIndex and retry)", () => {
  it("replicating, a rejection above match restarts from match + 1; one at or below match is stale", () => {
    const pr = progress("replicate", 5, 10);
    expect(pr.maybeDecrTo(5, 5)).toBe(false);
    expect(pr.maybeDecrTo(4, 4)).toBe(false);
    expect(pr.next).toBe(10);
    expect(pr.maybeDecrTo(9, 9)).toBe(true);
    expect(pr.next).toBe(6);
  });

  it("probing, only the rejection of the message just sent counts; next goes to the hint, never below match + 1", () => {
    const pr = progress("probe", 2, 10);
    expect(pr.maybeDecrTo(8, 3)).toBe(false); // not the probe in flight (its prev is 9)
    expect(pr.next).toBe(10);
    pr.sentEntries(12, 3, 3);
    expect(pr.maybeDecrTo(9, 5)).toBe(true);
    expect(pr.next).toBe(6); // the follower's hint: its log may match at 5
    expect(pr.isPaused()).toBe(false); // the rejection ends the wait
    expect(pr.maybeDecrTo(5, 0)).toBe(true);
    expect(pr.next).toBe(3); // never below match + 1
    pr.next = 8;
    expect(pr.maybeDecrTo(7, 9)).toBe(true);
    expect(pr.next).toBe(7); // a hint beyond the rejected index does not move next forward
  });
});

describe("states", () => {
  it("after a snapshot, probing starts past the snapshot's index", () => {
    const pr = progress("probe", 3, 4);
    pr.becomeSnapshot(snapshot(10));
    expect(pr.isPaused()).toBe(true);
    expect(pr.pendingSnapshot).toBe(10);
    pr.becomeProbe();
    expect([pr.state, pr.next, pr.pendingSnapshot]).toEqual(["probe", 11, 0]);
    expect(pr.snapshotSend).toBeUndefined();
    pr.maybeUpdate(12);
    pr.becomeSnapshot(snapshot(10));
    pr.becomeProbe();
    expect(pr.next).toBe(13); // a match past the snapshot wins
  });

  it("leaving a state forgets its messages in flight", () => {
    const pr = progress("replicate", 3, 4);
    pr.sentEntries(5, 2, 2);
    pr.sentEntries(6, 1, 1);
    expect(pr.inflights.count).toBe(2);
    pr.becomeProbe();
    expect([pr.next, pr.inflights.count, pr.isPaused()]).toEqual([4, 0, false]);
  });

  it("replicating pauses only on a full window; an empty message takes no slot", () => {
    const pr = progress("replicate", 3, 4);
    for (let i = 4; i <= 6; i++) pr.sentEntries(i, 1, 1);
    pr.sentEntries(6, 0, 0); // an empty app (a commit update)
    expect([pr.next, pr.inflights.count, pr.isPaused()]).toEqual([7, 3, false]);
    pr.sentEntries(7, 1, 1);
    expect(pr.isPaused()).toBe(true);
  });
});
