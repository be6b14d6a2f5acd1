// watch(): changes under a prefix as an async iterator over the SSE endpoint, that survives
// dropped connections (resume from the exact position) and compaction (re-read the prefix and
// resume from its revision), delivering every change once. See WatchPosition for the bookkeeping.
import { backoffDelayMs, sleep, type BackoffOptions } from "./backoff.ts";
import { isRetryable, UnavailableError } from "./errors.ts";
import type { Http } from "./http.ts";
import { namespaceOf } from "./keys.ts";
import { readSse, SseParser, type SseMessage } from "./sse.ts";
import type { Actor, DeleteEvent, ListItem, PutEvent, WatchEvent } from "./types.ts";
import { decodeInline } from "./values.ts";
import { WatchPosition } from "./watch-position.ts";

export interface WatchOptions {
  /** "{namespace}/" or "{namespace}/{partial name}". */
  prefix: string;
  /** First revision wanted (inclusive); default: changes after the watch starts. */
  fromRevision?: number;
  /** Include values in put events (default true). */
  values?: boolean;
  /** Stops the watch: the iterator then ends without an error. */
  signal?: AbortSignal;
}

/** What watch needs from the client: a stream opener and a consistent re-read of the prefix. */
export interface WatchDeps {
  http: Http;
  backoff: BackoffOptions;
  /** All items under the prefix, with the revisions of the first and the last page. */
  snapshot(prefix: string, values: boolean, signal?: AbortSignal): Promise<Snapshot>;
  /** The current revision of the prefix's shard, to start "from now" without a gap. */
  currentRevision(prefix: string, signal?: AbortSignal): Promise<number | undefined>;
}

export interface Snapshot {
  items: ListItem[];
  fromRevision: number;
  throughRevision: number;
}

export async function* watch(deps: WatchDeps, options: WatchOptions): AsyncGenerator<WatchEvent> {
  const { prefix, signal } = options;
  const values = options.values ?? true;
  const position = new WatchPosition(options.fromRevision);
  let failures = 0;
  while (!signal?.aborted) {
    let delivered = false;
    try {
      // "From now" is pinned to a revision before the first connection, so that a connection
      // lost before its first event cannot skip the changes made meanwhile.
      if (position.resumeFrom === undefined) {
        const revision = await deps.currentRevision(prefix, signal);
        if (revision !== undefined) position.progress(revision);
      }
      for await (const event of streamOnce(deps, options, values, position)) {
        delivered = true;
        yield event;
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (!isRetryable(error) && !isStreamBreak(error)) throw error;
    }
    // Back off only when connections fail or end empty, so a flapping server is not hammered.
    failures = delivered ? 0 : failures + 1;
    if (failures > 0)
      await sleep(backoffDelayMs(failures - 1, deps.backoff), signal).catch(() => {});
  }
}

/** One connection: yields new events until the stream ends or asks for a reconnect. */
async function* streamOnce(
  deps: WatchDeps,
  options: WatchOptions,
  values: boolean,
  position: WatchPosition,
): AsyncGenerator<WatchEvent> {
  // Event ids are revisions, set only where a revision is complete; Last-Event-ID N resumes with
  // the changes after N. That is the position's resume point (a half-delivered revision is sent
  // again in full, and its already-seen keys dropped).
  const from = position.resumeFrom;
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (from !== undefined) headers["last-event-id"] = String(Math.max(0, from - 1));
  const res = await deps.http.open({
    method: "GET",
    path: "/v1/watch",
    query: { prefix: options.prefix, values: values ? undefined : "false" },
    headers,
    namespace: namespaceOf(options.prefix),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!res.body) return;
  for await (const message of readSse(res.body, new SseParser())) {
    const event = await handle(deps, options, values, position, message);
    if (event) yield event;
  }
}

async function handle(
  deps: WatchDeps,
  options: WatchOptions,
  values: boolean,
  position: WatchPosition,
  message: SseMessage,
): Promise<WatchEvent | undefined> {
  const data = parseData(message.data);
  switch (message.event) {
    case "put":
    case "delete": {
      const change = toChange(message.event, data);
      const fresh = change !== undefined && position.accept(change);
      // The server puts an id only on the last event of a revision: that revision is complete.
      if (change && message.hasId && num(message.id) === change.modRevision)
        position.progress(change.modRevision);
      return fresh ? change : undefined;
    }
    case "progress": {
      const revision = num(data.revision) ?? num(message.id);
      if (revision !== undefined) position.progress(revision);
      return undefined;
    }
    case "compacted": {
      const snap = await deps.snapshot(options.prefix, values, options.signal);
      position.resync(snap.items, snap.fromRevision, snap.throughRevision);
      // Whether the server then ends the stream or goes on, the position drops what the snapshot
      // already holds, and a reconnect resumes right after the snapshot.
      return { type: "resync", revision: snap.throughRevision, entries: snap.items };
    }
    case "error":
      // The server gave up on this stream; reconnecting (with backoff) resumes it.
      throw new UnavailableError(0, {
        title: "Watch stream failed",
        detail: typeof data.detail === "string" ? data.detail : message.data,
      });
    default:
      return undefined;
  }
}

function toChange(
  type: "put" | "delete",
  data: Record<string, unknown>,
): PutEvent | DeleteEvent | undefined {
  const key = data.key;
  const modRevision = num(data.modRevision);
  if (typeof key !== "string" || modRevision === undefined) return undefined;
  if (type === "delete") {
    const event: DeleteEvent = { type, key, modRevision };
    if (num(data.version) !== undefined) event.version = num(data.version)!;
    return event;
  }
  const event: PutEvent = { type, key, modRevision, version: num(data.version) ?? 0 };
  if (num(data.createRevision) !== undefined) event.createRevision = num(data.createRevision)!;
  if (typeof data.contentType === "string") event.contentType = data.contentType;
  // Values arrive as in bundles: JSON inline, anything else {contentType, base64}.
  if ("value" in data) event.value = decodeInline(data.value);
  if (typeof data.at === "string") event.at = data.at;
  if (typeof data.actor === "object" && data.actor !== null) event.actor = data.actor as Actor;
  if (typeof data.reason === "string") event.reason = data.reason;
  if (typeof data.requestId === "string") event.requestId = data.requestId;
  return event;
}

function parseData(data: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(data);
    return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function num(value: unknown): number | undefined {
  const n = typeof value === "string" && value !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}

/** A connection that broke mid-stream (reset, proxy timeout) surfaces as a plain TypeError. */
function isStreamBreak(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    (error instanceof Error && /terminated|reset|socket|network/i.test(error.message))
  );
}
