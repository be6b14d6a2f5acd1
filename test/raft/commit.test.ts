// The leader's commit index (§5.3, §5.4.2): it advances when a majority holds an entry of the
// current term, and followers learn it from the next message the leader sends.
import { describe, expect, it } from "vitest";
import { Network } from "./harness.ts";

/** A 3-member group where 1 leads term 2 and everyone holds (and committed) the no-op at 2. */
function elected(): Network {
  const net = new Network(["1", "2", "3"]);
  net.campaign("1").stabilize();
  net.take();
  return net;
}

describe("§5.3 the leader's commit index", () => {
  it("once a majority holds an entry the leader tells every follower the new commit index", () => {
    const net = elected();
    net.propose("1", "x");
    net.deliver(); // the app reaches 2 and 3; both answers are queued
    net.take();
    net.deliver({ only: (m) => m.from === "2" });
    expect(net.status("1").commit).toBe(3);
    net.deliver({ only: (m) => m.from === "1" });
    expect(net.take()).toEqual([
      "2->1 appResp t2 index=3",
      "1->2 app t2 prev=3/2 commit=3",
      "1->3 app t2 prev=3/2 commit=3",
    ]);
  });

  it("an answer that commits nothing more sends nothing to the others", () => {
    const net = elected();
    net.propose("1", "x");
    net.deliver();
    net.deliver({ only: (m) => m.from === "2" }); // 3 commits through 2's answer
    net.deliver({ only: (m) => m.from === "1" });
    net.take();
    net.deliver({ only: (m) => m.from === "3" && m.type === "appResp" && m.index === 3 });
    // 3's answers (to the entry, and to the commit update) reach the leader ...
    expect(new Set(net.take())).toEqual(new Set(["3->1 appResp t2 index=3"]));
    // ... and the leader, whose commit index did not move, has nothing to say.
    expect(net.queue.filter((m) => m.from === "1")).toEqual([]);
  });
});
