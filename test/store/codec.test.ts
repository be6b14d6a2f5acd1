import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalCommand,
  decodeCommand,
  encodeCommand,
  withSchemasVouched,
} from "../../src/store/codec.ts";
import type { Command } from "../../src/store/types.ts";
import { Driver, bytes } from "./helpers.ts";
import { anyCommand } from "./arbitraries.ts";

describe("command codec", () => {
  it("round-trips every command", () => {
    fc.assert(
      fc.property(anyCommand, (c) => {
        expect(decodeCommand(encodeCommand(c))).toEqual(canonicalCommand(c));
      }),
      { numRuns: 500 },
    );
  });

  it("is canonical: field order and unset optional fields do not change the bytes", () => {
    fc.assert(
      fc.property(anyCommand, (c) => {
        const shuffled = Object.fromEntries(Object.entries(c).reverse()) as Command;
        const withUndefined = { ...c, idempotencyKey: c.idempotencyKey } as Command;
        const encoded = encodeCommand(c);
        expect(encodeCommand(shuffled)).toEqual(encoded);
        expect(encodeCommand(withUndefined)).toEqual(encoded);
        expect(encodeCommand(decodeCommand(encoded))).toEqual(encoded);
      }),
      { numRuns: 200 },
    );
  });

  it("adds the leader's schema verdict in place: the bytes encodeCommand gives for the vouched command", () => {
    fc.assert(
      fc.property(anyCommand, fc.nat({ max: 2 ** 40 }), (c, revision) => {
        if (c.type !== "put" && c.type !== "txn") return;
        const { schemasVouched: _none, ...unvouched } = c;
        const vouched = { ...unvouched, schemasVouched: revision } as Command;
        expect(withSchemasVouched(encodeCommand(unvouched as Command), revision)).toEqual(
          encodeCommand(vouched),
        );
      }),
      { numRuns: 500 },
    );
  });

  it("carries a put's lease and the fence of a put, delete and txn through the log", () => {
    const fence = { lock: "app/L", token: 7 };
    const commands: Command[] = [
      {
        type: "put",
        key: "app/a",
        value: bytes("v"),
        contentType: "t/p",
        lease: "app~1",
        fence,
        atMs: 1,
      },
      { type: "delete", key: "app/a", fence, atMs: 1 },
      { type: "txn", compare: [], success: [], failure: [], fence, atMs: 1 },
    ];
    for (const c of commands) expect(decodeCommand(encodeCommand(c))).toEqual(c);
  });

  it("carries value bytes raw, not base64", () => {
    const value = new Uint8Array(64 * 1024).map((_, i) => (i * 7) & 0xff);
    const encoded = encodeCommand({
      type: "put",
      key: "app/big",
      value,
      contentType: "application/octet-stream",
      atMs: 1,
    });
    expect(encoded.length).toBeLessThan(value.length + 200);
    expect(encoded.subarray(encoded.length - value.length)).toEqual(value);
  });

  it("is what Store.apply takes from the log", () => {
    const d = new Driver();
    const outcome = d.store.apply(
      1,
      encodeCommand({
        type: "put",
        key: "app/a",
        value: bytes("v"),
        contentType: "text/plain",
        atMs: 5,
      }),
    );
    expect(outcome).toMatchObject({ type: "ok", change: "created", entry: { updatedAtMs: 5 } });
  });

  it("asserts on bytes it did not write", () => {
    const good = encodeCommand({ type: "delete", key: "app/a", atMs: 1 });
    expect(() => decodeCommand(good.subarray(0, good.length - 1))).toThrow(/invariant/);
    expect(() => decodeCommand(new Uint8Array([9, ...good.subarray(1)]))).toThrow(/format/);
    expect(() => decodeCommand(new Uint8Array([...good, 0]))).toThrow(/trailing/);
    const wrongType = new TextEncoder().encode('{"blobs":[],"body":{"type":"drop","atMs":1}}');
    const frame = new Uint8Array(5 + wrongType.length);
    frame[0] = 1;
    new DataView(frame.buffer).setUint32(1, wrongType.length);
    frame.set(wrongType, 5);
    expect(() => decodeCommand(frame)).toThrow(/type/);
  });
});
