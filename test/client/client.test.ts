import { describe, expect, it, vi } from "vitest";
import {
  createClient,
  ConflictError,
  NotFoundError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from "../../src/client/index.ts";
import { entry, json, noDelay, problem, stubFetch } from "./stub.ts";

const url = "http://store.test";

describe("get and the ETag cache", () => {
  it("revalidates with If-None-Match and serves a 304 from the cache", async () => {
    const stub = stubFetch((req, n) =>
      n === 0
        ? new Response('{"a":1}', {
            headers: {
              etag: '"r3"',
              "content-type": "application/json",
              "x-edgecfg-version": "2",
              "x-edgecfg-revision": "s1.3",
            },
          })
        : new Response(null, {
            status: 304,
            headers: { etag: '"r3"', "x-edgecfg-revision": "s1.4" },
          }),
    );
    const client = createClient({ url, fetch: stub.fetch });
    expect(await client.getJSON("app/a")).toEqual({ a: 1 });
    const again = await client.get("app/a");
    expect(new TextDecoder().decode(again.bytes)).toBe('{"a":1}');
    expect(again.version).toBe(2);
    expect(stub.requests[0]!.headers.get("if-none-match")).toBeNull();
    expect(stub.requests[1]!.headers.get("if-none-match")).toBe('"r3"');
    expect(stub.requests[1]!.headers.get("x-edgecfg-min-revision")).toBe("s1.3");
    expect(client.revisionToken("app")).toBe("s1.4");
  });

  it("throws NotFoundError and forgets the cached value", async () => {
    const stub = stubFetch((_req, n) =>
      n === 0 ? new Response("x", { headers: { etag: '"r1"' } }) : problem(404),
    );
    const client = createClient({ url, fetch: stub.fetch });
    await client.get("app/a");
    await expect(client.get("app/a")).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.get("app/a")).rejects.toBeInstanceOf(NotFoundError);
    expect(stub.requests[2]!.headers.get("if-none-match")).toBeNull();
  });

  it("long-polls only with a cached ETag, and stretches the deadline by the wait", async () => {
    const stub = stubFetch((_req, n) =>
      n === 0
        ? json({ namespace: "app", revision: 1, entries: {} }, 200, { etag: '"r1"' })
        : new Response(null, { status: 304 }),
    );
    const client = createClient({ url, fetch: stub.fetch, timeoutMs: 20 });
    await client.bundle("app", { waitMs: 30_000 });
    await client.bundle("app", { waitMs: 90_000 });
    expect(new URL(stub.requests[0]!.url).searchParams.has("wait")).toBe(false);
    expect(new URL(stub.requests[1]!.url).searchParams.get("wait")).toBe("60000ms");
  });

  it("does not cache reads of an old revision", async () => {
    const stub = stubFetch(() => new Response("old", { headers: { etag: '"r1"' } }));
    const client = createClient({ url, fetch: stub.fetch });
    await client.get("app/a", { revision: 1 });
    await client.get("app/a");
    expect(new URL(stub.requests[0]!.url).searchParams.get("revision")).toBe("1");
    expect(stub.requests[1]!.headers.get("if-none-match")).toBeNull();
  });

  it("rejects dot segments before sending anything", async () => {
    const stub = stubFetch(() => new Response("x"));
    const client = createClient({ url, fetch: stub.fetch });
    await expect(client.get("app/../b")).rejects.toBeInstanceOf(ValidationError);
    await expect(client.get("nokey")).rejects.toBeInstanceOf(ValidationError);
    expect(stub.requests).toHaveLength(0);
  });

  it("sends the bearer token and percent-encodes segments", async () => {
    const stub = stubFetch(() => new Response("x", { headers: { etag: '"r1"' } }));
    await createClient({ url: url + "/", token: "t0k", fetch: stub.fetch }).get("app/dir/a b");
    expect(stub.requests[0]!.url).toBe(url + "/v1/kv/app/dir/a%20b");
    expect(stub.requests[0]!.headers.get("authorization")).toBe("Bearer t0k");
  });
});

describe("writes", () => {
  it("keeps one Idempotency-Key across retries of the same put", async () => {
    const stub = stubFetch((_req, n) =>
      n < 2
        ? problem(503, {}, { "retry-after": "0" })
        : json(entry("app/a", 5), 201, { etag: '"r5"' }),
    );
    const client = createClient({ url, fetch: stub.fetch, backoff: noDelay });
    const result = await client.put("app/a", { on: true });
    expect(result).toMatchObject({ etag: '"r5"', created: true });
    const keys = stub.requests.map((r) => r.headers.get("idempotency-key"));
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(stub.requests[0]!.headers.get("content-type")).toBe("application/json");
  });

  it("uses a fresh Idempotency-Key for each call", async () => {
    const stub = stubFetch(() => json(entry("app/a", 5), 200, { etag: '"r5"' }));
    const client = createClient({ url, fetch: stub.fetch });
    await client.put("app/a", "x");
    await client.put("app/a", "x");
    expect(stub.requests[0]!.headers.get("idempotency-key")).not.toBe(
      stub.requests[1]!.headers.get("idempotency-key"),
    );
    expect(stub.requests[0]!.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  });

  it("sends If-Match and If-None-Match: * and maps 412 to ConflictError", async () => {
    const stub = stubFetch(() => problem(412, { currentETag: '"r8"', entry: entry("app/a", 8) }));
    const client = createClient({ url, fetch: stub.fetch });
    const error = await client.put("app/a", 1, { ifMatch: '"r7"' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).currentETag).toBe('"r8"');
    await client.put("app/a", 1, { createOnly: true }).catch(() => {});
    expect(stub.requests[0]!.headers.get("if-match")).toBe('"r7"');
    expect(stub.requests[1]!.headers.get("if-none-match")).toBe("*");
  });

  it("does not retry a 4xx", async () => {
    const stub = stubFetch(() => problem(400));
    await expect(createClient({ url, fetch: stub.fetch }).delete("app/a")).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(stub.requests).toHaveLength(1);
  });

  it("passes on at once a 503 whose Retry-After exceeds the deadline", async () => {
    const stub = stubFetch(() => problem(503, { retryAfter: 3600 }, { "retry-after": "3600" }));
    const error = await createClient({ url, fetch: stub.fetch, timeoutMs: 1000 })
      .put("app/a", 1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).retryAfter).toBe(3600);
    expect(stub.requests).toHaveLength(1);
  });
});

describe("update", () => {
  it("retries a compare-and-set conflict with a fresh read", async () => {
    let stored = { n: 1 };
    let rev = 1;
    let conflictsLeft = 2;
    const stub = stubFetch(async (req) => {
      if (req.method === "GET")
        return new Response(JSON.stringify(stored), {
          headers: { etag: `"r${rev}"`, "content-type": "application/json" },
        });
      if (conflictsLeft-- > 0) {
        rev += 1; // someone else wrote meanwhile
        return problem(412, { currentETag: `"r${rev}"` });
      }
      expect(req.headers.get("if-match")).toBe(`"r${rev}"`);
      stored = (await req.json()) as { n: number };
      rev += 1;
      return json(entry("app/c", rev, 2), 200, { etag: `"r${rev}"` });
    });
    const client = createClient({ url, fetch: stub.fetch, backoff: noDelay });
    const result = await client.update<{ n: number }>("app/c", (cur) => ({ n: (cur?.n ?? 0) + 1 }));
    expect(stored).toEqual({ n: 2 });
    expect(result?.etag).toBe('"r4"');
    expect(stub.requests.filter((r) => r.method === "PUT")).toHaveLength(3);
  });

  it("creates with If-None-Match: * when the key is absent, and gives up after attemptsMax", async () => {
    const stub = stubFetch((req) => (req.method === "GET" ? problem(404) : problem(412)));
    const client = createClient({ url, fetch: stub.fetch, backoff: noDelay });
    await expect(client.update("app/c", () => 1, { attemptsMax: 3 })).rejects.toBeInstanceOf(
      ConflictError,
    );
    const puts = stub.requests.filter((r) => r.method === "PUT");
    expect(puts).toHaveLength(3);
    expect(puts[0]!.headers.get("if-none-match")).toBe("*");
  });

  it("writes nothing when fn returns undefined", async () => {
    const stub = stubFetch(
      () => new Response("1", { headers: { etag: '"r1"', "content-type": "application/json" } }),
    );
    expect(
      await createClient({ url, fetch: stub.fetch }).update("app/c", () => undefined),
    ).toBeUndefined();
    expect(stub.requests).toHaveLength(1);
  });
});

describe("deadlines and signals", () => {
  const hanging = stubFetch(
    (req) =>
      new Promise<Response>((_resolve, reject) => {
        req.signal.addEventListener("abort", () => reject(req.signal.reason));
      }),
  );

  it("times out with TimeoutError after timeoutMs", async () => {
    const error = await createClient({ url, fetch: hanging.fetch, timeoutMs: 30 })
      .get("app/a")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it("stops when the caller's signal aborts, with its reason", async () => {
    const controller = new AbortController();
    const pending = createClient({ url, fetch: hanging.fetch }).get("app/a", {
      signal: controller.signal,
    });
    controller.abort(new Error("caller gave up"));
    await expect(pending).rejects.toThrow("caller gave up");
  });

  it("retries when the connection breaks while the body is read", async () => {
    const broken = () =>
      new Response(new ReadableStream({ pull: (c) => c.error(new TypeError("terminated")) }));
    const stub = stubFetch((_req, n) =>
      n === 0
        ? broken()
        : json({ namespace: "app", revision: 1, entries: {} }, 200, { etag: '"r1"' }),
    );
    const bundle = await createClient({ url, fetch: stub.fetch, backoff: noDelay }).bundle("app");
    expect(bundle.revision).toBe(1);
    expect(stub.requests).toHaveLength(2);
  });

  it("turns a network failure into UnavailableError after attemptsMax tries", async () => {
    const stub = stubFetch(() => Promise.reject(new TypeError("fetch failed")));
    const error = await createClient({ url, fetch: stub.fetch, backoff: noDelay, attemptsMax: 2 })
      .bundle("app")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).status).toBe(0);
    expect(stub.requests).toHaveLength(2);
  });
});

describe("offline: cache and fallback", () => {
  const bundle = {
    namespace: "app",
    revision: 4,
    entries: { flags: { beta: true }, motd: { contentType: "text/plain", base64: btoa("hi") } },
  };

  it("serves the fallback bundle and values when the store is unreachable, and says so", async () => {
    const onStale = vi.fn();
    const stub = stubFetch(() => Promise.reject(new TypeError("fetch failed")));
    const client = createClient({
      url,
      fetch: stub.fetch,
      backoff: noDelay,
      attemptsMax: 1,
      fallback: bundle,
      onStale,
    });
    expect(await client.bundle("app")).toEqual(bundle);
    expect(await client.getJSON("app/flags")).toEqual({ beta: true });
    expect(await client.getText("app/motd")).toBe("hi");
    expect(onStale).toHaveBeenCalledTimes(3);
    expect(onStale.mock.calls[0]![0]).toMatchObject({ subject: "app", source: "fallback" });
    await expect(client.get("app/missing")).rejects.toBeInstanceOf(UnavailableError);
    await expect(client.get("other/x")).rejects.toBeInstanceOf(UnavailableError);
  });

  it("loads a fallback through an injected loader, once", async () => {
    const load = vi.fn(async () => [bundle]);
    const stub = stubFetch(() => Promise.reject(new TypeError("fetch failed")));
    const client = createClient({ url, fetch: stub.fetch, attemptsMax: 1, fallback: { load } });
    await client.bundle("app");
    await client.bundle("app");
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("prefers the last good cached value over the fallback", async () => {
    const onStale = vi.fn();
    const stub = stubFetch((_req, n) =>
      n === 0 ? json({ ...bundle, revision: 9 }, 200, { etag: '"r9"' }) : problem(503),
    );
    const client = createClient({
      url,
      fetch: stub.fetch,
      backoff: noDelay,
      attemptsMax: 1,
      fallback: bundle,
      onStale,
    });
    await client.bundle("app");
    expect((await client.bundle("app")).revision).toBe(9);
    expect(onStale.mock.calls[0]![0]).toMatchObject({ source: "cache" });
  });

  it("never serves stale data for errors that are the caller's (401)", async () => {
    const stub = stubFetch(() => problem(401));
    const client = createClient({ url, fetch: stub.fetch, fallback: bundle });
    await expect(client.bundle("app")).rejects.toMatchObject({ status: 401 });
  });
});

describe("txn across namespaces", () => {
  it("keeps the answer's multi-shard token for every namespace it touched", async () => {
    const stub = stubFetch(() =>
      json({ succeeded: true, revisions: { app: 7, web: 12 }, results: [] }, 200, {
        "x-edgecfg-revision": "s0.7,s2.12",
      }),
    );
    const client = createClient({ url, fetch: stub.fetch });
    const answer = await client.txn({
      success: [
        { type: "put", key: "app/a", value: 1 },
        { type: "put", key: "web/b", value: 2 },
      ],
    });
    expect(answer.revisions).toEqual({ app: 7, web: 12 });
    expect([client.revisionToken("app"), client.revisionToken("web")]).toEqual([
      "s0.7,s2.12",
      "s0.7,s2.12",
    ]);
  });
});
