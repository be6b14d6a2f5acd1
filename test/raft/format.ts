// One-line renderings of messages and entries for traces, e.g.
//   1->2 app t2 prev=2/2 ents=[3/2:"x"] commit=2
//   3->1 appResp t2 reject index=3 hint=2/2
import { decodeConfChange } from "../../src/raft/confchange.ts";
import type { Entry, Message } from "../../src/raft/types.ts";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export function fmt(m: Message): string {
  const parts = [`${m.from}->${m.to} ${m.type} t${m.term}`];
  switch (m.type) {
    case "app":
      parts.push(`prev=${m.index}/${m.logTerm}`);
      if ((m.entries ?? []).length > 0)
        parts.push(`ents=[${(m.entries ?? []).map(fmtEntry).join(" ")}]`);
      parts.push(`commit=${m.commit}`);
      break;
    case "appResp":
      if (m.reject === true)
        parts.push(`reject index=${m.index} hint=${m.rejectHint}/${m.rejectTerm}`);
      else if (m.index !== undefined) parts.push(`index=${m.index}`);
      break;
    case "vote":
    case "preVote":
      parts.push(`last=${m.index}/${m.logTerm}`);
      if (m.context !== undefined) parts.push(`ctx=${m.context}`);
      break;
    case "voteResp":
    case "preVoteResp":
      parts.push(m.reject === true ? "rejected" : "granted");
      break;
    case "heartbeat":
      parts.push(`commit=${m.commit}`);
      if (m.context !== undefined) parts.push(`ctx=${m.context}`);
      if (m.quiesce === true) parts.push("quiesce");
      if (m.sentAtMs !== undefined) parts.push(`at=${m.sentAtMs}`);
      break;
    case "heartbeatResp":
      if (m.context !== undefined) parts.push(`ctx=${m.context}`);
      if (m.quiesce === true) parts.push("quiesce");
      if (m.sentAtMs !== undefined) parts.push(`at=${m.sentAtMs}`);
      break;
    case "snap": {
      const c = m.snapshot!;
      parts.push(
        `snap=${c.metadata.index}/${c.metadata.term} off=${c.offset} len=${c.data.byteLength}${c.done ? " done" : ""}`,
      );
      break;
    }
    case "snapResp":
      parts.push(`snap=${m.index} off=${m.snapshotOffset}`);
      break;
    case "prop":
      parts.push(`ents=[${(m.entries ?? []).map(fmtEntry).join(" ")}]`);
      break;
    case "readIndex":
    case "readIndexResp":
      if (m.index !== undefined) parts.push(`index=${m.index}`);
      parts.push(`ctx=${m.context}`);
      break;
    case "transferLeader":
      parts.push(`to=${m.transferee}`);
      break;
    default:
      break;
  }
  return parts.join(" ");
}

export function fmtEntry(e: Entry): string {
  if (e.type === "conf") {
    const cc = decodeConfChange(e.data);
    return `${e.index}/${e.term}:${cc.type}(${cc.nodeId})`;
  }
  return `${e.index}/${e.term}:${e.data.byteLength === 0 ? "-" : JSON.stringify(dec(e.data))}`;
}
