// The chaos run's watches: each holds a `GET /v1/watch?prefix=…` stream open, drops it every few
// seconds (and whenever a fault breaks it) and resumes with Last-Event-ID, as a client of the
// contract does. It records what each connection delivered up to the last id it received: events
// after that id (the first events of a txn whose last event did not arrive) are not the stream's
// to keep, since the resume position sends them again.
import type { History, WatchEvent, WatchLog, WatchSession } from "./history.ts";

export interface WatchOptions {
  url: string;
  token: string;
  prefix: string;
  random: () => number;
}

/** A connection is dropped after 2-8 s, to exercise resumption (a fault may drop it sooner). */
const holdMsMin = 2_000;
const holdMsSpread = 6_000;

interface Frame {
  event: string;
  data: string;
  id: number | null;
}

/** Splits an SSE byte stream into frames (event, data, id), as EventSource does. */
async function* frames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const decoder = new TextDecoder();
  let buffer = "";
  let frame: Frame = { event: "message", data: "", id: null };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
      if (line === "") {
        if (frame.data !== "" || frame.id !== null) yield frame;
        frame = { event: "message", data: "", id: null };
      } else if (line.startsWith("event:")) frame.event = line.slice(6).trim();
      else if (line.startsWith("data:")) frame.data += line.slice(5).trim();
      else if (line.startsWith("id:")) frame.id = Number(line.slice(3).trim());
      nl = buffer.indexOf("\n");
    }
  }
}

function eventOf(f: Frame): WatchEvent | null {
  if (f.event !== "put" && f.event !== "delete") return null;
  const d = JSON.parse(f.data) as {
    key: string;
    modRevision: number;
    contentType: string;
    value?: unknown;
  };
  let value: string | null = null;
  // A JSON value comes inline (as the txn wrote it); any other as base64 of its bytes.
  if (f.event === "put")
    value = d.contentType.startsWith("application/json")
      ? JSON.stringify(d.value)
      : Buffer.from((d.value as { base64: string }).base64, "base64").toString("utf8");
  return { revision: d.modRevision, key: d.key, value };
}

/** One connection, from `after` until it breaks, is dropped, or `stop` says so. */
async function session(
  o: WatchOptions,
  h: History,
  log: WatchLog,
  after: number,
  stop: () => boolean,
) {
  const s: WatchSession = { after, lastId: after, events: [], openedMs: h.now(), closedMs: 0 };
  log.sessions.push(s);
  const abort = new AbortController();
  const holdMs = holdMsMin + o.random() * holdMsSpread;
  const timer = setInterval(() => {
    if (stop() || h.now() - s.openedMs > holdMs) abort.abort();
  }, 100);
  try {
    const headers: Record<string, string> = { Authorization: `Bearer ${o.token}` };
    if (after > 0) headers["Last-Event-ID"] = String(after);
    const from = after > 0 ? "" : "&fromRevision=1";
    const res = await fetch(`${o.url}/v1/watch?prefix=${o.prefix}${from}`, {
      headers,
      signal: abort.signal,
    });
    if (res.status !== 200 || res.body === null) await res.text();
    else await readSession(res.body, s);
  } catch {
    // Dropped, timed out or broken: the next session resumes from s.lastId.
  } finally {
    clearInterval(timer);
    abort.abort();
    s.closedMs = h.now();
  }
  return s;
}

async function readSession(body: ReadableStream<Uint8Array>, s: WatchSession) {
  let pending: WatchEvent[] = [];
  for await (const f of frames(body)) {
    const e = eventOf(f);
    if (e !== null) pending.push(e);
    if (f.event === "compacted") {
      s.compactedTo = (JSON.parse(f.data) as { revision: number }).revision;
      return;
    }
    if (f.id !== null && Number.isFinite(f.id)) {
      s.events.push(...pending);
      pending = [];
      s.lastId = Math.max(s.lastId, f.id);
    }
  }
}

/** A watch of `o.prefix` from revision 1 until `stop()`, resuming after every break. */
export async function runWatch(
  watcher: number,
  o: WatchOptions,
  h: History,
  stop: () => boolean,
): Promise<WatchLog> {
  const log: WatchLog = { watcher, prefix: o.prefix, sessions: [] };
  h.watches.push(log);
  let after = 0;
  while (!stop()) {
    const s = await session(o, h, log, after, stop);
    after = s.compactedTo ?? s.lastId; // compacted: re-read (the checker needs no state), go on
    if (s.events.length === 0) await new Promise((r) => setTimeout(r, 200));
  }
  return log;
}

/** The newest revision every watch has reached. */
export function watchedUpTo(logs: readonly WatchLog[]): number {
  return Math.min(...logs.map((l) => Math.max(0, ...l.sessions.map((s) => s.lastId))));
}
