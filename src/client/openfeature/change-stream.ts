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

const quickEndMs = 1_000;

/**
 * Runs until `signal` aborts. A stream the server ends (it rotates them every 30 minutes) is
 * reopened at once and is no loss; a broken one, or one that cannot open, is.
 */
export async function runChangeStream(o: ChangeStreamOptions, signal: AbortSignal): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    const opened = Date.now();
    try {
      await openOnce(o, signal);
      // One that ends as soon as it opened is a misbehaving path: back off, but it is no loss.
      failures = Date.now() - opened < quickEndMs ? failures + 1 : 0;
      if (failures === 0) continue;
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
