// Push for the provider: the namespace's watch stream (SSE, values left out), kept open with
// backoff. The provider is told when the stream is (re)connected, when the namespace changed,
// and when the stream was lost; it re-reads the bundle itself, so events are only signals.
import { backoffDelayMs, defaultBackoff, sleep } from "../backoff.ts";
import type { FetchLike } from "../http.ts";
import { readSse, SseParser } from "../sse.ts";

export interface ChangeStreamOptions {
  url: string;
  namespace: string;
  token?: string;
  fetch: FetchLike;
  onConnected(): void;
  onChange(): void;
  /** The stream broke or could not open; `fatal` for 401/403 (no retry helps). */
  onLost(error: unknown, fatal: boolean): void;
}

async function openOnce(o: ChangeStreamOptions, signal: AbortSignal): Promise<void> {
  const query = new URLSearchParams({ prefix: `${o.namespace}/`, values: "false" });
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const res = await o.fetch(`${o.url.replace(/\/$/, "")}/v1/watch?${query}`, { headers, signal });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw Object.assign(new Error(`watch stream answered ${res.status}`), { status: res.status });
  }
  o.onConnected();
  for await (const message of readSse(res.body, new SseParser())) {
    if (message.event === "put" || message.event === "delete" || message.event === "compacted")
      o.onChange();
  }
}

/** Runs until `signal` aborts; reports each loss once per connection. */
export async function runChangeStream(o: ChangeStreamOptions, signal: AbortSignal): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      await openOnce(o, signal);
      failures = 0;
      if (!signal.aborted) o.onLost(new Error("the watch stream ended"), false);
    } catch (error) {
      if (signal.aborted) return;
      const status = (error as { status?: number }).status;
      const fatal = status === 401 || status === 403;
      o.onLost(error, fatal);
      if (fatal) return;
      failures += 1;
    }
    const backoff = { ...defaultBackoff, delayMsMax: 5_000 };
    await sleep(backoffDelayMs(failures, backoff), signal).catch(() => {});
  }
}
