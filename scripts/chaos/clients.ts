// The chaos run's clients: closed loops of linearizable gets, unconditional puts and
// compare-and-set (a GET, then a PUT If-Match the ETag read, or If-None-Match * when absent) on a
// few keys, each write with a value no other write uses. A 5xx, a timeout or a broken connection
// is an unknown outcome, never retried: the history says exactly what the client saw.
import type { History } from "./history.ts";

export interface ClientOptions {
  url: string;
  token: string;
  keys: number;
  /** Per-request timeout, ms. */
  timeoutMs: number;
  random: () => number;
}

type Answer = { status: number; body: string; etag: string | null } | null;

async function call(o: ClientOptions, path: string, init: RequestInit = {}): Promise<Answer> {
  try {
    const res = await fetch(`${o.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${o.token}`, ...(init.headers as Record<string, string>) },
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    return { status: res.status, body: await res.text(), etag: res.headers.get("ETag") };
  } catch {
    return null;
  }
}

const settled = (a: Answer) => a !== null && a.status < 500;

export async function runClient(
  id: number,
  o: ClientOptions,
  history: History,
  until: () => boolean,
): Promise<void> {
  for (let n = 0; !until(); n++) {
    const key = `chaos/k${Math.floor(o.random() * o.keys)}`;
    const value = `c${id}-${n}`;
    const choice = o.random();
    if (choice < 0.4) await get(id, o, history, key);
    else if (choice < 0.6) await put(id, o, history, key, value);
    else await cas(id, o, history, key, value);
  }
}

async function get(id: number, o: ClientOptions, h: History, key: string) {
  const invokeMs = h.now();
  const a = await call(o, `/v1/kv/${key}`);
  const known = a !== null && (a.status === 200 || a.status === 404);
  const value = a?.status === 200 ? a.body : null;
  h.record({
    client: id,
    input: { kind: "get", key },
    output: { kind: "get", value },
    invokeMs,
    completeMs: known ? h.now() : null,
  });
  return known ? { value, etag: a!.etag } : null;
}

async function put(id: number, o: ClientOptions, h: History, key: string, value: string) {
  const invokeMs = h.now();
  const a = await call(o, `/v1/kv/${key}`, {
    method: "PUT",
    body: value,
    headers: { "Content-Type": "text/plain" },
  });
  const ok = a !== null && (a.status === 200 || a.status === 201);
  h.record({
    client: id,
    input: { kind: "put", key, value },
    output: { kind: "put" },
    invokeMs,
    completeMs: ok ? h.now() : null,
  });
  if (settled(a) && !ok) throw new Error(`PUT ${key} answered ${a!.status}: ${a!.body}`);
}

async function cas(id: number, o: ClientOptions, h: History, key: string, value: string) {
  const read = await get(id, o, h, key);
  if (read === null) return;
  const precondition: Record<string, string> =
    read.value === null ? { "If-None-Match": "*" } : { "If-Match": read.etag! };
  const invokeMs = h.now();
  const a = await call(o, `/v1/kv/${key}`, {
    method: "PUT",
    body: value,
    headers: { "Content-Type": "text/plain", ...precondition },
  });
  const known = a !== null && (a.status === 200 || a.status === 201 || a.status === 412);
  h.record({
    client: id,
    input: { kind: "cas", key, expected: read.value, value },
    output: { kind: "cas", ok: a !== null && a.status < 300 },
    invokeMs,
    completeMs: known ? h.now() : null,
  });
  if (settled(a) && !known) throw new Error(`CAS ${key} answered ${a!.status}: ${a!.body}`);
}
