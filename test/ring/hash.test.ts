import { describe, expect, it } from "vitest";
import { fmix64, fnv1a64, fnv1a64Hex } from "../../src/base/hash.ts";
import { jumpConsistentHash } from "../../src/base/jump.ts";

describe("FNV-1a 64", () => {
  it("matches the published test vectors", () => {
    // From the FNV reference test suite (Landon Curt Noll, test_fnv.c).
    expect(fnv1a64Hex("")).toBe("cbf29ce484222325");
    expect(fnv1a64Hex("a")).toBe("af63dc4c8601ec8c");
    expect(fnv1a64Hex("foobar")).toBe("85944171f73967e8");
    expect(fnv1a64("a")).toBe(0xaf63dc4c8601ec8cn);
  });

  it("hashes UTF-8 bytes: strings and their encodings agree", () => {
    const s = "namespäce-✓";
    expect(fnv1a64Hex(s)).toBe(fnv1a64Hex(new TextEncoder().encode(s)));
  });

  it("agrees with a BigInt reference implementation", () => {
    const reference = (bytes: Uint8Array) => {
      let h = 0xcbf29ce484222325n;
      for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
      return h;
    };
    for (let i = 0; i < 200; i++) {
      const bytes = new Uint8Array(i).map((_, j) => (j * 131 + i * 7) & 0xff);
      expect(fnv1a64(bytes)).toBe(reference(bytes));
    }
  });
});

describe("fmix64", () => {
  it("matches MurmurHash3's finalizer on known inputs", () => {
    expect(fmix64(0n)).toBe(0n);
    // fmix64(1) as computed by the reference C (MurmurHash3.cpp).
    expect(fmix64(1n)).toBe(0xb456bcfc34c2cb2cn);
  });
});

describe("jump consistent hash", () => {
  it("matches the reference implementation's outputs", () => {
    // Values produced by the paper's C++ (as shipped in ClickHouse's jumpConsistentHash).
    expect(jumpConsistentHash(1n, 1)).toBe(0);
    expect(jumpConsistentHash(42n, 57)).toBe(43);
    expect(jumpConsistentHash(256n, 1024)).toBe(520);
    expect(jumpConsistentHash(3735883980n, 1)).toBe(0);
    expect(jumpConsistentHash(3735883980n, 666)).toBe(361);
    expect(jumpConsistentHash(16045690984833335023n, 255)).toBe(237);
  });

  it("refuses bucket counts it cannot handle", () => {
    expect(() => jumpConsistentHash(1n, 0)).toThrow(RangeError);
    expect(() => jumpConsistentHash(1n, 1.5)).toThrow(RangeError);
  });
});
