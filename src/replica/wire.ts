// The envelope replicas exchange over DO RPC. One envelope per peer per round carries all of that
// peer's messages; the reply envelope (the RPC's return value) carries the messages addressed back.
//
// `v` is the wire format version. During a deploy old and new code run side by side, so a
// replica accepts every version in [wireVersionMin, wireVersion] and refuses the rest with an
// error that says which side is out of date. Bump wireVersion when Message changes shape.
import type { Message, NodeId } from "../raft/index.ts";
import type { GroupSpec } from "./group.ts";

export const wireVersion = 1;
export const wireVersionMin = 1;

export interface Envelope {
  v: number;
  from: NodeId;
  to: NodeId;
  /** The group, so that a replica never contacted by the router can still join it. */
  group: GroupSpec;
  messages: Message[];
}

export interface ReplyEnvelope {
  v: number;
  from: NodeId;
  to: NodeId;
  messages: Message[];
  /**
   * Set when the replica refused the envelope (it is stopped or drops inbound messages by fault
   * injection): an answer rather than a thrown error, so refusals do not flood the logs.
   */
  refused?: string;
}

export class WireVersionError extends Error {
  override name = "WireVersionError";
}

/** Why an envelope of version `v` cannot be read here, or null when it can. */
export function wireVersionError(v: unknown, from: string): string | null {
  if (typeof v === "number" && v >= wireVersionMin && v <= wireVersion) return null;
  const side =
    typeof v === "number" && v > wireVersion ? "this replica is older" : "the sender is older";
  return (
    `wire format v${String(v)} from ${from} is not supported (this replica speaks v${wireVersionMin}..v${wireVersion}); ` +
    `${side}: finish the deploy so both run the same release`
  );
}

export function checkWireVersion(v: unknown, from: string): void {
  const error = wireVersionError(v, from);
  if (error !== null) throw new WireVersionError(error);
}
