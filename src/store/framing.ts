// The byte framing shared by commands and snapshots: a JSON header with raw binary blobs after it,
// so values travel byte for byte (no base64: a 1 MiB value costs 1 MiB in the log, not 1.33).
//
//   [format u8][header length u32 big-endian][header: UTF-8 JSON][blob 0][blob 1]…
//   header = {"blobs":[length 0, length 1, …],"body":…}, each Uint8Array in the body replaced
//   by {"$blob": i}.
//
// Deterministic: JSON.stringify follows object insertion order, and callers build their bodies
// in a fixed field order (codec.ts, snapshot.ts), so equal inputs give equal bytes.
import { assert } from "./assert.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const prefixBytes = 5;

export function encodeFrame(format: number, body: unknown): Uint8Array {
  const blobs: Uint8Array[] = [];
  // A walk, not a JSON.stringify replacer: a replacer forces V8's slow path (~3x slower).
  const bodyJson = JSON.stringify(extractBlobs(body, blobs));
  const header = encoder.encode(
    `{"blobs":${JSON.stringify(blobs.map((b) => b.length))},"body":${bodyJson}}`,
  );
  const total = prefixBytes + header.length + blobs.reduce((sum, b) => sum + b.length, 0);
  const out = new Uint8Array(total);
  out[0] = format;
  new DataView(out.buffer).setUint32(1, header.length);
  out.set(header, prefixBytes);
  let offset = prefixBytes + header.length;
  for (const blob of blobs) {
    out.set(blob, offset);
    offset += blob.length;
  }
  return out;
}

/**
 * `frame` with `field: value` added as the last field of its body (a non-empty JSON object): the
 * bytes encodeFrame gives for the body with that field appended, without decoding the frame. The
 * blobs stay where they are, after the header.
 */
export function withLastBodyField(frame: Uint8Array, field: string, value: number): Uint8Array {
  assert(Number.isFinite(value), "a frame field added in place is a finite number");
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerBytes = view.getUint32(1);
  const end = prefixBytes + headerBytes; // the header ends with the body's "}" and its own "}"
  assert(
    frame[end - 1] === 0x7d && frame[end - 2] === 0x7d && frame[end - 3] !== 0x7b,
    "frame body is no non-empty object",
  );
  const added = encoder.encode(`,${JSON.stringify(field)}:${JSON.stringify(value)}`);
  const out = new Uint8Array(frame.length + added.length);
  out.set(frame.subarray(0, end - 2));
  new DataView(out.buffer).setUint32(1, headerBytes + added.length);
  out.set(added, end - 2);
  out.set(frame.subarray(end - 2), end - 2 + added.length);
  return out;
}

export function decodeFrame(bytes: Uint8Array): { format: number; body: unknown } {
  assert(bytes.length >= prefixBytes, "frame shorter than its prefix");
  const headerBytes = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
  assert(prefixBytes + headerBytes <= bytes.length, "frame header overruns the frame");
  const header = JSON.parse(
    decoder.decode(bytes.subarray(prefixBytes, prefixBytes + headerBytes)),
  ) as { blobs: unknown; body: unknown };
  assert(Array.isArray(header.blobs), "frame header has no blob table");
  const blobs: Uint8Array[] = [];
  let offset = prefixBytes + headerBytes;
  for (const length of header.blobs) {
    assert(
      Number.isSafeInteger(length) && length >= 0 && offset + length <= bytes.length,
      "frame blob overruns the frame",
    );
    blobs.push(bytes.slice(offset, offset + length));
    offset += length;
  }
  assert(offset === bytes.length, "frame has trailing bytes");
  return { format: bytes[0]!, body: reviveBlobs(header.body, blobs) };
}

function extractBlobs(node: unknown, blobs: Uint8Array[]): unknown {
  if (node instanceof Uint8Array) {
    blobs.push(node);
    return { $blob: blobs.length - 1 };
  }
  if (Array.isArray(node)) return node.map((x) => extractBlobs(x, blobs));
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) if (v !== undefined) out[k] = extractBlobs(v, blobs);
  return out;
}

function reviveBlobs(node: unknown, blobs: Uint8Array[]): unknown {
  if (Array.isArray(node)) return node.map((x) => reviveBlobs(x, blobs));
  if (node === null || typeof node !== "object") return node;
  const index = (node as { $blob?: unknown }).$blob;
  if (index !== undefined) {
    assert(
      typeof index === "number" && blobs[index] !== undefined,
      "frame refers to a missing blob",
    );
    return blobs[index];
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = reviveBlobs(v, blobs);
  return out;
}
