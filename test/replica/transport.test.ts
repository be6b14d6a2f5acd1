// The peer transport's lanes, with a fake endpoint whose RPCs stay on the wire until the test
// answers them: what leaves at once, what waits, and what rides along.
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/raft/types.ts";
import { noFaults } from "../../src/replica/faults.ts";
import { emptyStats } from "../../src/replica/stats.ts";
import { Transport } from "../../src/replica/transport.ts";
import { wireVersion, type Envelope, type ReplyEnvelope } from "../../src/replica/wire.ts";

interface OnWire {
  envelope: Envelope;
  answer(): void;
}

function fakeNetwork(limits = { rpcsInFlightMax: 1, controlRpcsInFlightMax: 1 }) {
  const wire: OnWire[] = [];
  const transport = new Transport({
    endpoint: () => ({
      deliver: (envelope) =>
        new Promise<ReplyEnvelope>((resolve) => {
          wire.push({
            envelope,
            answer: () =>
              resolve({ v: wireVersion, from: envelope.to, to: envelope.from, messages: [] }),
          });
        }),
    }),
    envelope: (to, messages) => ({
      v: wireVersion,
      from: "a",
      to,
      group: { shard: 0, generation: 1, members: [] },
      messages,
    }),
    onReply: () => {},
    onUnreachable: (peer, error) => {
      throw new Error(`unexpected failure to ${peer}: ${String(error)}`);
    },
    faults: () => noFaults,
    stats: emptyStats(),
    ...limits,
    rpcTimeoutMs: 60_000,
    rpcBytesMax: 1024 * 1024,
  });
  return { transport, wire };
}

const heartbeat = (to = "b"): Message => ({ type: "heartbeat", from: "a", to, term: 1 });
const append = (index: number, to = "b"): Message => ({
  type: "app",
  from: "a",
  to,
  term: 1,
  index,
  logTerm: 1,
  commit: index,
  entries: [{ index: index + 1, term: 1, type: "normal", data: new Uint8Array([index]) }],
});
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("Transport lanes", () => {
  it("an append leaves at once while a heartbeat is on the wire", () => {
    const { transport, wire } = fakeNetwork();
    transport.send([heartbeat()]);
    expect(wire).toHaveLength(1);
    expect(transport.anyIdle(["b"])).toBe(true); // a heartbeat does not make the peer busy
    transport.send([append(1)]);
    expect(wire.map((w) => w.envelope.messages.map((m) => m.type))).toEqual([
      ["heartbeat"],
      ["app"],
    ]);
    expect(transport.anyIdle(["b"])).toBe(false);
  });

  it("appends made while one is on the wire leave together when it is answered", async () => {
    const { transport, wire } = fakeNetwork();
    transport.send([append(1)]);
    transport.send([append(2)]);
    transport.send([append(3)]);
    expect(wire).toHaveLength(1);
    wire[0]!.answer();
    await settle();
    expect(wire).toHaveLength(2);
    expect(wire[1]!.envelope.messages.map((m) => m.index)).toEqual([2, 3]);
  });

  it("a commit-only append (flushed at a tick) does not hold back the next proposal", () => {
    const { transport, wire } = fakeNetwork();
    const commitOnly: Message = {
      type: "app",
      from: "a",
      to: "b",
      term: 1,
      index: 1,
      logTerm: 1,
      commit: 1,
      entries: [],
    };
    transport.send([commitOnly]);
    expect(wire).toHaveLength(0); // deferred: it waits for the next message or tick
    transport.flushAll();
    expect(wire).toHaveLength(1);
    expect(transport.anyIdle(["b"])).toBe(true);
    transport.send([append(1)]);
    expect(wire.map((w) => w.envelope.messages.map((m) => m.entries?.length))).toEqual([[0], [1]]);
  });

  it("while an append is on the wire, heartbeats wait to ride along with the next one (no extra request under load)", async () => {
    const { transport, wire } = fakeNetwork();
    transport.send([append(1)]);
    transport.send([append(2), heartbeat()]);
    transport.send([heartbeat()]);
    expect(wire).toHaveLength(1);
    wire[0]!.answer();
    await settle();
    expect(wire[1]!.envelope.messages.map((m) => m.type)).toEqual([
      "app",
      "heartbeat",
      "heartbeat",
    ]);
  });

  it("heartbeats left when the last append is answered take the control lane", async () => {
    const { transport, wire } = fakeNetwork();
    transport.send([append(1)]);
    transport.send([heartbeat()]);
    expect(wire).toHaveLength(1);
    wire[0]!.answer();
    await settle();
    expect(wire[1]!.envelope.messages.map((m) => m.type)).toEqual(["heartbeat"]);
    expect(transport.anyIdle(["b"])).toBe(true);
  });

  it("lanes are per peer", () => {
    const { transport, wire } = fakeNetwork();
    transport.send([append(1, "b"), append(1, "c")]);
    expect(wire.map((w) => w.envelope.to).sort()).toEqual(["b", "c"]);
    expect(transport.anyIdle(["b", "c"])).toBe(false);
    wire[0]!.answer();
    return settle().then(() => expect(transport.anyIdle(["b", "c"])).toBe(true));
  });
});
