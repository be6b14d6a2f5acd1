// The SDK against the real Worker in workerd: SELF.fetch is the client's fetch.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import {
  ConflictError,
  createClient,
  ForbiddenError,
  NotFoundError,
  UnavailableError,
  type FetchLike,
  type WatchEvent,
} from "../../src/client/index.ts";

const adminToken = (env as { ADMIN_TOKEN?: string }).ADMIN_TOKEN ?? "";
if (!adminToken) {
  throw new Error(
    'the SDK tests need an ADMIN_TOKEN binding: add miniflare: { bindings: { ADMIN_TOKEN: "dev-admin-token" } } ' +
      "to cloudflareTest() in vitest.config.ts",
  );
}
const base = "http://edgecfg.test";

/** SELF.fetch as a client fetch, recording each request and response status. */
function recordingFetch() {
  const log: { method: string; url: string; headers: Headers; status: number }[] = [];
  const fetch: FetchLike = async (input, init) => {
    const req = new Request(input, init);
    const res = await SELF.fetch(req);
    log.push({ method: req.method, url: req.url, headers: req.headers, status: res.status });
    return res;
  };
  return { fetch, log };
}

let counter = 0;
function freshNs(): string {
  counter += 1;
  return `sdk-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

function client(fetch: FetchLike = recordingFetch().fetch, token = adminToken) {
  return createClient({ url: base, token, fetch, backoff: { baseDelayMs: 5, delayMsMax: 50 } });
}

describe("SDK against the Worker", () => {
  it("puts, gets, and revalidates from the cache with a 304", async () => {
    const rec = recordingFetch();
    const c = client(rec.fetch);
    const ns = freshNs();
    const put = await c.put(`${ns}/flags`, { beta: true });
    expect(put.created).toBe(true);
    expect(put.etag).toMatch(/^"r\d+"$/);
    expect(await c.getJSON(`${ns}/flags`)).toEqual({ beta: true });
    expect(await c.getJSON(`${ns}/flags`)).toEqual({ beta: true });
    const gets = rec.log.filter((r) => r.method === "GET");
    expect(gets.map((g) => g.status)).toEqual([304, 304]);
    expect(gets[0]!.headers.get("if-none-match")).toBe(put.etag);
    // A fresh client has no cache: a full 200.
    expect(await client().getText(`${ns}/flags`)).toBe('{"beta":true}');
    await expect(c.get(`${ns}/missing`)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("carries consistency tokens: reads after a write send X-Edgecfg-Min-Revision", async () => {
    const rec = recordingFetch();
    const c = client(rec.fetch);
    const ns = freshNs();
    await c.put(`${ns}/a`, "1");
    const token = c.revisionToken(ns);
    expect(token).toMatch(/^s\d+\.\d+$/);
    await c.put(`${ns}/a`, "2");
    expect(await c.getText(`${ns}/a`)).toBe("2");
    const read = rec.log.at(-1)!;
    expect(read.headers.get("x-edgecfg-min-revision")).toBe(c.revisionToken(ns));
    expect(c.revisionToken(ns)).not.toBe(token);
    // A token handed to another client makes it read at least that state too.
    const other = client();
    other.observeRevisionToken(ns, c.revisionToken(ns)!);
    expect(await other.getText(`${ns}/a`)).toBe("2");
  });

  it("update() under contention: every increment lands exactly once", async () => {
    const ns = freshNs();
    const key = `${ns}/counter`;
    const workers = 8;
    await Promise.all(
      Array.from({ length: workers }, () =>
        client().update<number>(key, (n) => (n ?? 0) + 1, { attemptsMax: 100 }),
      ),
    );
    expect(await client().getJSON(key)).toBe(workers);
    const history = await client().history(key);
    expect(history[0]!.version).toBe(workers);
  });

  it("CAS: a stale If-Match is a ConflictError with the current ETag; create-only too", async () => {
    const c = client();
    const ns = freshNs();
    const first = await c.put(`${ns}/k`, "a");
    const second = await c.put(`${ns}/k`, "b", { ifMatch: first.etag });
    const error = await c.put(`${ns}/k`, "c", { ifMatch: first.etag }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).currentETag).toBe(second.etag);
    await expect(c.put(`${ns}/k`, "d", { createOnly: true })).rejects.toBeInstanceOf(ConflictError);
  });

  it("reads an old version by revision, lists, bundles and runs a txn", async () => {
    const c = client();
    const ns = freshNs();
    const v1 = await c.put(`${ns}/x`, { v: 1 });
    await c.put(`${ns}/x`, { v: 2 });
    await c.put(`${ns}/bin`, new Uint8Array([0, 1, 2]));
    const old = await c.get(`${ns}/x`, { revision: v1.entry.modRevision });
    expect(JSON.parse(new TextDecoder().decode(old.bytes))).toEqual({ v: 1 });
    const items = [];
    for await (const item of c.listAll(`${ns}/`, { values: true, limit: 1 })) items.push(item);
    expect(items.map((i) => i.key)).toEqual([`${ns}/bin`, `${ns}/x`]);
    expect(items[0]!.value).toEqual(new Uint8Array([0, 1, 2]));
    expect(items[1]!.value).toEqual({ v: 2 });
    const bundle = await c.bundle(ns);
    expect(bundle.entries.x).toEqual({ v: 2 });
    const result = await c.txn({
      compare: [{ key: `${ns}/x`, target: "version", op: "=", value: 2 }],
      success: [
        { type: "put", key: `${ns}/y`, value: 1 },
        { type: "delete", key: `${ns}/bin` },
      ],
    });
    expect(result.succeeded).toBe(true);
    expect(Object.keys((await c.bundle(ns)).entries).sort()).toEqual(["x", "y"]);
  });

  it("long-polls a bundle: returns as soon as the namespace changes", async () => {
    const c = client();
    const ns = freshNs();
    await c.put(`${ns}/a`, 1);
    expect((await c.bundle(ns)).entries).toEqual({ a: 1 });
    const started = Date.now();
    const polling = c.bundle(ns, { waitMs: 20_000 });
    await new Promise((r) => setTimeout(r, 50));
    await client().put(`${ns}/b`, 2);
    expect((await polling).entries).toEqual({ a: 1, b: 2 });
    // Well before the 20 s wait ran out: the write ended it (a busy machine may take seconds).
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("scoped tokens: read allowed, write forbidden, revoked token refused", async () => {
    const ns = freshNs();
    const admin = client();
    await admin.put(`${ns}/k`, "v");
    const minted = await admin.tokens.create({
      scopes: [{ namespaces: [ns], ops: ["read"] }],
      expiresInSeconds: 3600,
    });
    const reader = client(undefined, minted.token);
    expect(await reader.getText(`${ns}/k`)).toBe("v");
    await expect(reader.put(`${ns}/k`, "w")).rejects.toBeInstanceOf(ForbiddenError);
    expect((await admin.tokens.list()).some((t) => t.id === minted.id)).toBe(true);
    await admin.tokens.revoke(minted.id);
    await expect(client(undefined, minted.token).getText(`${ns}/k`)).rejects.toMatchObject({
      status: 401,
    });
  });

  it("offline start: serves the fallback when the store is unreachable, and says it is stale", async () => {
    const onStale = vi.fn();
    const down: FetchLike = () => Promise.reject(new TypeError("network down"));
    const fallback = { namespace: "offline", revision: 3, entries: { flags: { beta: false } } };
    const c = createClient({
      url: base,
      fetch: down,
      fallback,
      onStale,
      attemptsMax: 2,
      backoff: { baseDelayMs: 1, delayMsMax: 2 },
    });
    expect(await c.getJSON("offline/flags")).toEqual({ beta: false });
    expect((await c.bundle("offline")).revision).toBe(3);
    expect(onStale).toHaveBeenCalledTimes(2);
    await expect(c.get("elsewhere/k")).rejects.toBeInstanceOf(UnavailableError);
  });

  it("serves the last good value from its cache when the store goes away", async () => {
    const ns = freshNs();
    let up = true;
    const flaky: FetchLike = (input, init) =>
      up ? SELF.fetch(new Request(input, init)) : Promise.reject(new TypeError("down"));
    const onStale = vi.fn();
    const c = createClient({ url: base, token: adminToken, fetch: flaky, onStale, attemptsMax: 1 });
    await c.put(`${ns}/k`, "cached");
    up = false;
    expect(await c.getText(`${ns}/k`)).toBe("cached");
    expect(onStale.mock.calls[0]![0]).toMatchObject({ source: "cache", subject: `${ns}/k` });
  });
});

describe("watch against the Worker", () => {
  /** Collects `count` events, then stops the watch. */
  async function take(
    events: AsyncGenerator<WatchEvent>,
    count: number,
    controller: AbortController,
  ): Promise<WatchEvent[]> {
    const out: WatchEvent[] = [];
    for await (const e of events) {
      out.push(e);
      if (out.length >= count) controller.abort();
    }
    return out;
  }
  const keysOf = (events: WatchEvent[]) =>
    events.map((e) =>
      e.type === "resync" ? "resync" : `${e.type}:${e.key.split("/")[1]}@${e.modRevision}`,
    );

  it("resumes after the caller stops and restarts: nothing missed, nothing twice", async () => {
    const c = client();
    const ns = freshNs();
    const first = await c.put(`${ns}/a`, 1);
    await c.put(`${ns}/b`, 2);
    const stop = new AbortController();
    const seen = await take(
      c.watch({ prefix: `${ns}/`, fromRevision: first.entry.modRevision, signal: stop.signal }),
      2,
      stop,
    );
    // While nobody watches, more changes commit.
    await c.delete(`${ns}/a`);
    await c.put(`${ns}/c`, 3);
    const last = seen.at(-1) as { modRevision: number };
    const again = new AbortController();
    const rest = await take(
      c.watch({ prefix: `${ns}/`, fromRevision: last.modRevision + 1, signal: again.signal }),
      2,
      again,
    );
    const all = keysOf([...seen, ...rest]);
    expect(all.map((s) => s.split("@")[0])).toEqual(["put:a", "put:b", "delete:a", "put:c"]);
    expect(new Set(all).size).toBe(4);
  });

  it("after compaction re-reads the prefix (resync) and resumes from its revision", async () => {
    const c = client();
    const ns = freshNs();
    // More versions than a key retains (100 by default): revision 1 is compacted away.
    for (let i = 0; i < 105; i++) await c.put(`${ns}/hot`, i);
    await c.put(`${ns}/cold`, "x");
    const stop = new AbortController();
    const events = c.watch({ prefix: `${ns}/`, fromRevision: 1, signal: stop.signal });
    const first = (await events.next()).value!;
    expect(first).toMatchObject({ type: "resync" });
    const entries = (first as { entries: { key: string; value?: unknown }[] }).entries;
    expect(entries.map((e) => [e.key.split("/")[1], e.value])).toEqual([
      ["cold", "x"],
      ["hot", 104],
    ]);
    // Written after the resync: the next event, once.
    const after = await c.put(`${ns}/new`, true);
    const second = (await events.next()).value!;
    stop.abort();
    await events.return(undefined);
    expect(second).toMatchObject({
      type: "put",
      key: `${ns}/new`,
      modRevision: after.entry.modRevision,
    });
  });

  it("survives dropped connections on its own (Last-Event-ID), delivering each change once", async () => {
    const ns = freshNs();
    const opened: (string | null)[] = [];
    // Cut the first streams after two events each (the progress heartbeat and one change), as a
    // flaky network would; one lands inside the txn's revision. Later streams run undisturbed.
    const cutting: FetchLike = async (input, init) => {
      const req = new Request(input, init);
      const res = await SELF.fetch(req);
      if (!req.url.includes("/v1/watch") || !res.body) return res;
      opened.push(req.headers.get("last-event-id"));
      if (opened.length > 7) return res;
      return new Response(cutAfterEvents(res.body, 2), {
        status: res.status,
        headers: res.headers,
      });
    };
    const writer = client();
    const watcher = client(cutting);
    const start = await writer.put(`${ns}/k0`, 0);
    for (let i = 1; i < 6; i++) await writer.put(`${ns}/k${i}`, i);
    await writer.txn({
      success: [
        { type: "put", key: `${ns}/t1`, value: 1 },
        { type: "put", key: `${ns}/t2`, value: 2 },
      ],
    });
    const stop = new AbortController();
    const events = await take(
      watcher.watch({
        prefix: `${ns}/`,
        fromRevision: start.entry.modRevision,
        signal: stop.signal,
      }),
      8,
      stop,
    );
    const keys = keysOf(events).map((s) => s.split("@")[0]);
    expect(keys).toEqual([
      "put:k0",
      "put:k1",
      "put:k2",
      "put:k3",
      "put:k4",
      "put:k5",
      "put:t1",
      "put:t2",
    ]);
    expect(opened.length).toBe(8);
    // Each reconnect resumed from the last complete revision; the txn's revision was asked twice.
    const revisions = events.map((e) => (e as { modRevision: number }).modRevision);
    expect(opened.map(Number)).toEqual([revisions[0]! - 1, ...revisions.slice(0, 6), revisions[5]]);
  });
});

/**
 * Passes an SSE stream through until `count` events went by, then fails like a lost connection.
 * The failure comes on the pull after the last event: erroring a stream drops what is queued.
 */
function cutAfterEvents(
  body: ReadableStream<Uint8Array>,
  count: number,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = "";
  let passed = 0;
  return new ReadableStream({
    async pull(controller) {
      if (passed >= count) {
        await reader.cancel().catch(() => {});
        return controller.error(new TypeError("network connection lost"));
      }
      const { done, value } = await reader.read();
      if (done) return controller.close();
      pending += decoder.decode(value, { stream: true });
      let end: number;
      while (passed < count && (end = pending.indexOf("\n\n")) >= 0) {
        controller.enqueue(encoder.encode(pending.slice(0, end + 2)));
        pending = pending.slice(end + 2);
        passed += 1;
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  });
}
