// The chaos run's clients: closed loops over a few keys of one namespace (one shard) of
// linearizable, stale and min-revision reads, unconditional and idempotent puts, compare-and-set
// (If-Match the ETag read, or If-None-Match * when absent), deletes, transfers between accounts
// (a txn comparing both modRevisions) and snapshots of every account (a txn of gets). Each write
// carries a value no other write uses, naming its operation. A 5xx, a timeout or a broken
// connection is an unknown outcome; only an idempotent put retries one (same Idempotency-Key,
// same body): the history says exactly what the client saw.
import type { History, Input, Output, Recorded, Seen } from "./history.ts";

export interface ClientOptions {
  url: string;
  token: string;
  keys: number;
  /** The account keys transfers move balance between (JSON `{b, op}` values). */
  accounts: string[];
  /** Per-request timeout, ms. */
  timeoutMs: number;
  random: () => number;
}

interface Answer {
  status: number;
  body: string;
  headers: Headers;
}

/** Tries an idempotent put gets, its first included. */
const idempotentAttemptsMax = 4;

async function call(
  o: ClientOptions,
  path: string,
  init: RequestInit = {},
): Promise<Answer | null> {
  try {
    const res = await fetch(`${o.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${o.token}`, ...(init.headers as Record<string, string>) },
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    return { status: res.status, body: await res.text(), headers: res.headers };
  } catch {
    return null;
  }
}

/** The revision of `s<shard>.<revision>` in a header, or null. */
function tokenRevision(a: Answer, header = "X-Edgecfg-Revision"): number | null {
  const m = /^s\d+\.(\d+)$/.exec(a.headers.get(header)?.trim() ?? "");
  return m ? Number(m[1]) : null;
}

const etagRevision = (a: Answer): number | null => {
  const m = /^"r(\d+)"$/.exec(a.headers.get("ETag") ?? "");
  return m ? Number(m[1]) : null;
};

/** One client: its id, and the newest revision it saw (the token its min-revision reads send). */
interface Client {
  id: number;
  o: ClientOptions;
  h: History;
  newest: number;
  shard: number;
  n: number;
}

export async function runClient(
  id: number,
  o: ClientOptions,
  history: History,
  shard: number,
  until: () => boolean,
): Promise<void> {
  const c: Client = { id, o, h: history, newest: 0, shard, n: 0 };
  while (!until()) {
    c.n++;
    const key = `chaos/k${Math.floor(o.random() * o.keys)}`;
    const p = o.random();
    if (p < 0.22) await get(c, key, "linearizable");
    else if (p < 0.32) await get(c, key, "stale");
    else if (p < 0.42) await get(c, key, "min");
    else if (p < 0.52) await put(c, key, false);
    else if (p < 0.62) await put(c, key, true);
    else if (p < 0.77) await cas(c, key);
    else if (p < 0.82) await del(c, key);
    else if (p < 0.94) await transfer(c);
    else await readAll(c);
  }
}

/** Records one operation; `output` null is an unknown outcome. */
function note(c: Client, input: Input, invokeMs: number, output: Output | null, attempts?: number) {
  const op: Recorded = {
    client: c.id,
    input,
    output,
    invokeMs,
    completeMs: output === null ? null : c.h.now(),
    ...(attempts === undefined ? {} : { attempts }),
  };
  if (output !== null) c.newest = Math.max(c.newest, output.revision);
  c.h.record(op);
}

function unexpected(what: string, a: Answer): never {
  throw new Error(`${what} answered ${a.status}: ${a.body.slice(0, 500)}`);
}

async function get(c: Client, key: string, mode: "linearizable" | "stale" | "min") {
  const input: Input =
    mode === "min" ? { kind: "get", key, mode, minRevision: c.newest } : { kind: "get", key, mode };
  const headers: Record<string, string> =
    mode === "min" ? { "X-Edgecfg-Min-Revision": `s${c.shard}.${c.newest}` } : {};
  const invokeMs = c.h.now();
  const a = await call(c.o, `/v1/kv/${key}${mode === "linearizable" ? "" : "?consistency=stale"}`, {
    headers,
  });
  if (a === null || (a.status !== 200 && a.status !== 404)) return null; // a read that did nothing
  // A stale 404 carries only X-Edgecfg-Revision (the state that answered), no applied revision.
  const revision =
    (mode === "linearizable" ? null : tokenRevision(a, "X-Edgecfg-Applied-Revision")) ??
    tokenRevision(a);
  if (revision === null) unexpected(`GET ${key} (no revision)`, a);
  const seen: Seen =
    a.status === 200
      ? { key, modRevision: etagRevision(a), value: a.body }
      : { key, modRevision: null };
  note(c, input, invokeMs, { kind: "read", revision, seen: [seen] });
  return seen;
}

async function put(c: Client, key: string, idempotent: boolean) {
  const value = `c${c.id}-${c.n}`;
  const idempotencyKey = idempotent ? `chaos-${c.id}-${c.n}` : undefined;
  const input: Input = { kind: "put", key, value, ...(idempotencyKey ? { idempotencyKey } : {}) };
  const invokeMs = c.h.now();
  const headers: Record<string, string> = { "Content-Type": "text/plain" };
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let attempts = 0;
  let a: Answer | null = null;
  do {
    attempts++;
    a = await call(c.o, `/v1/kv/${key}`, { method: "PUT", body: value, headers });
  } while (idempotent && attempts < idempotentAttemptsMax && (a === null || a.status >= 500));
  note(
    c,
    input,
    invokeMs,
    writeOutput(`PUT ${key}`, a, [200, 201]),
    idempotent ? attempts : undefined,
  );
}

/** A write's answer: committed at its revision, or null (unknown) on a 5xx or no answer. */
function writeOutput(what: string, a: Answer | null, ok: number[]): Output | null {
  if (a === null || a.status >= 500) return null;
  if (!ok.includes(a.status)) unexpected(what, a);
  const revision = tokenRevision(a);
  if (revision === null) unexpected(`${what} (no revision)`, a);
  return { kind: "wrote", revision };
}

async function cas(c: Client, key: string) {
  const read = await get(c, key, "linearizable");
  if (read === null) return;
  const value = `c${c.id}-${c.n}`;
  const ifMatch = read.modRevision;
  const precondition: Record<string, string> =
    ifMatch === null ? { "If-None-Match": "*" } : { "If-Match": `"r${ifMatch}"` };
  const invokeMs = c.h.now();
  const a = await call(c.o, `/v1/kv/${key}`, {
    method: "PUT",
    body: value,
    headers: { "Content-Type": "text/plain", ...precondition },
  });
  const input: Input = { kind: "cas", key, value, ifMatch };
  if (a !== null && a.status === 412) {
    const revision = tokenRevision(a);
    if (revision === null) unexpected(`CAS ${key} (no revision)`, a);
    note(c, input, invokeMs, {
      kind: "read",
      revision,
      seen: [{ key, modRevision: etagRevision(a) }],
    });
  } else note(c, input, invokeMs, writeOutput(`CAS ${key}`, a, [200, 201]));
}

async function del(c: Client, key: string) {
  const invokeMs = c.h.now();
  const a = await call(c.o, `/v1/kv/${key}`, { method: "DELETE" });
  const input: Input = { kind: "delete", key };
  if (a !== null && a.status === 404) {
    const revision = tokenRevision(a);
    if (revision === null) unexpected(`DELETE ${key} (no revision)`, a);
    note(c, input, invokeMs, { kind: "read", revision, seen: [{ key, modRevision: null }] });
  } else note(c, input, invokeMs, writeOutput(`DELETE ${key}`, a, [204]));
}

interface TxnAnswer {
  succeeded: boolean;
  revision: number;
  results: { type: string; entry: { key: string; modRevision: number } | null; value?: unknown }[];
}

/** A txn's gets as what it saw. */
function txnSeen(keys: string[], t: TxnAnswer): Seen[] {
  return t.results.map((r, i) =>
    r.entry === null
      ? { key: keys[i]!, modRevision: null }
      : { key: r.entry.key, modRevision: r.entry.modRevision, value: JSON.stringify(r.value) },
  );
}

async function txn(c: Client, body: unknown): Promise<Answer | null> {
  return call(c.o, "/v1/txn", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function readAll(c: Client): Promise<Seen[] | null> {
  const keys = c.o.accounts;
  const invokeMs = c.h.now();
  const a = await txn(c, { success: keys.map((key) => ({ type: "get", key })) });
  if (a === null || a.status !== 200) return null;
  const t = JSON.parse(a.body) as TxnAnswer;
  const seen = txnSeen(keys, t);
  note(c, { kind: "readAll", keys }, invokeMs, { kind: "read", revision: t.revision, seen });
  return seen;
}

/** Moves 1-10 from one account to another, if both are as the snapshot just read saw them. */
async function transfer(c: Client) {
  const snapshot = await readAll(c);
  if (snapshot === null) return;
  const [from, to] = pickTwo(c);
  const of = (key: string) => snapshot.find((s) => s.key === key)!;
  const bal = (key: string) => (JSON.parse(of(key).value ?? '{"b":0}') as { b: number }).b;
  const amount = 1 + Math.floor(c.o.random() * 10);
  const op = `c${c.id}-${c.n}`;
  const writes = {
    [from]: JSON.stringify({ b: bal(from) - amount, op }),
    [to]: JSON.stringify({ b: bal(to) + amount, op }),
  };
  const ifMatch = { [from]: of(from).modRevision!, [to]: of(to).modRevision! };
  const input: Input = { kind: "transfer", ifMatch, writes };
  const invokeMs = c.h.now();
  const a = await txn(c, {
    compare: [from, to].map((key) => ({
      key,
      target: "modRevision",
      op: "=",
      value: ifMatch[key],
    })),
    success: [from, to].map((key) => ({ type: "put", key, value: JSON.parse(writes[key]!) })),
    failure: [from, to].map((key) => ({ type: "get", key })),
  });
  if (a === null || a.status >= 500) return note(c, input, invokeMs, null);
  if (a.status !== 200) unexpected("transfer txn", a);
  const t = JSON.parse(a.body) as TxnAnswer;
  const output: Output = t.succeeded
    ? { kind: "wrote", revision: t.revision }
    : { kind: "read", revision: t.revision, seen: txnSeen([from, to], t) };
  note(c, input, invokeMs, output);
}

function pickTwo(c: Client): [string, string] {
  const keys = c.o.accounts;
  const i = Math.floor(c.o.random() * keys.length);
  const j = (i + 1 + Math.floor(c.o.random() * (keys.length - 1))) % keys.length;
  return [keys[i]!, keys[j]!];
}
