// FNV-1a, 64-bit (Fowler–Noll–Vo), over UTF-8 bytes. Computed in four 16-bit limbs with plain
// numbers: BigInt would be ~50x slower, and the store hashes whole values (up to 1 MiB) with it.
// FNV-1a's low bits mix poorly on short, similar inputs ("ns-1", "ns-2"), so placement runs the
// result through a 64-bit finalizer (fmix64 of MurmurHash3) before using it; see ring.ts.

const encoder = new TextEncoder();

/** FNV-1a 64 of the bytes, as 16 lowercase hex digits. */
export function fnv1a64Hex(input: string | Uint8Array): string {
  const [h3, h2, h1, h0] = fnv1a64Limbs(typeof input === "string" ? encoder.encode(input) : input);
  return [h3, h2, h1, h0].map((limb) => limb.toString(16).padStart(4, "0")).join("");
}

/** FNV-1a 64 of the bytes, as an unsigned BigInt. */
export function fnv1a64(input: string | Uint8Array): bigint {
  return BigInt(`0x${fnv1a64Hex(input)}`);
}

/** The hash as limbs, most significant first. */
function fnv1a64Limbs(bytes: Uint8Array): [number, number, number, number] {
  // Offset basis 0xcbf29ce484222325, least significant limb first.
  let h0 = 0x2325,
    h1 = 0x8422,
    h2 = 0x9ce4,
    h3 = 0xcbf2;
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i]!;
    // h *= 0x100000001b3 (mod 2^64), i.e. h * 0x1b3 + (h << 40).
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (h0 << 8) + (t1 >>> 16);
    const t3 = h3 * 0x1b3 + (h1 << 8) + (t2 >>> 16);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  return [h3, h2, h1, h0];
}

const mask64 = (1n << 64n) - 1n;

/** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
export function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & mask64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & mask64;
  k ^= k >> 33n;
  return k;
}
