// The data of a normal log entry as replicas write it: the store's encoded command, tagged with
// the id of the proposal that carried it, so the leader that proposed it can hand the outcome to
// the caller waiting for it (the core does not say at which index a proposal lands).
//
//   [format u8 = 1][id length u8][id: ASCII][command bytes (src/store/codec.ts)]
//
// An empty entry is the no-op a new leader appends; it carries no command.
import { assert } from "../base/index.ts";

const payloadFormat = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface Payload {
  proposalId: string;
  command: Uint8Array;
}

export function encodePayload(proposalId: string, command: Uint8Array): Uint8Array {
  const id = encoder.encode(proposalId);
  assert(id.length <= 255, "proposal id longer than 255 bytes");
  const out = new Uint8Array(2 + id.length + command.length);
  out[0] = payloadFormat;
  out[1] = id.length;
  out.set(id, 2);
  out.set(command, 2 + id.length);
  return out;
}

/** Null for the leader's empty no-op entry. */
export function decodePayload(data: Uint8Array): Payload | null {
  if (data.length === 0) return null;
  assert(data[0] === payloadFormat, `entry payload format ${data[0]} is unknown to this release`);
  const idLength = data[1] ?? 0;
  assert(data.length >= 2 + idLength, "entry payload shorter than its proposal id");
  return {
    proposalId: decoder.decode(data.subarray(2, 2 + idLength)),
    command: data.subarray(2 + idLength),
  };
}
