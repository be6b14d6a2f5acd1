import { describe, expect, it } from "vitest";
import { run } from "../../src/cli/main.ts";
import type { Io } from "../../src/cli/io.ts";
import { parseDurationSeconds, parseScopes } from "../../src/cli/commands/token.ts";
import { inferContentType } from "../../src/cli/value-input.ts";
import { entry, json, problem, stubFetch, type Stub } from "./stub.ts";

function testIo(stub: Stub, stdin = "", files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const decoder = new TextDecoder();
  const io: Io = {
    stdout: { write: (c) => out.push(typeof c === "string" ? c : decoder.decode(c)) },
    stderr: { write: (c) => err.push(typeof c === "string" ? c : decoder.decode(c)) },
    readStdin: async () => new TextEncoder().encode(stdin),
    readFile: async (p) => {
      if (!(p in files)) throw new Error(`ENOENT: ${p}`);
      return new TextEncoder().encode(files[p]);
    },
    writeFile: async (p, d) => void (files[p] = d),
    env: { EDGECFG_URL: "http://store.test", EDGECFG_TOKEN: "tok" },
    fetch: stub.fetch,
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join(""), files };
}

describe("cli exit codes", () => {
  it("0 and the help text with the exit codes for --help", async () => {
    const t = testIo(stubFetch(() => problem(500)));
    expect(await run(["--help"], t.io)).toBe(0);
    expect(t.stdout()).toContain("Exit codes:");
    expect(t.stdout()).toMatch(/kv\s+get\|put\|delete\|ls\|history\|blame\|rollback\|watch/);
  });

  it("2 for usage errors", async () => {
    const t = testIo(stubFetch(() => problem(500)));
    expect(await run(["kv", "get"], t.io)).toBe(2);
    expect(await run(["nope"], t.io)).toBe(2);
    expect(await run(["kv", "put", "app/a"], t.io)).toBe(2);
    expect(t.stderr()).toContain("no value: pass it as an argument");
    expect(
      await run(["kv", "put", "app/a", "x", "--if-match", '"r1"', "--create-only"], t.io),
    ).toBe(2);
    expect(await run(["token", "create", "--ns", "a", "--scope", "root"], t.io)).toBe(2);
  });

  it("2 for a KEY that is not namespace/name, before any request; ls takes a bare namespace", async () => {
    const stub = stubFetch(() => json({ items: [], cursor: null }));
    const t = testIo(stub);
    for (const args of [
      ["kv", "get", "myapp"],
      ["kv", "put", "myapp/", "x"],
      ["kv", "rm", "a/../b"],
    ]) {
      expect(await run(args, t.io), args.join(" ")).toBe(2);
    }
    expect(t.stderr()).toContain("KEY must be namespace/name (e.g. myapp/flags)");
    expect(stub.requests).toHaveLength(0);
    expect(await run(["kv", "ls", "myapp"], t.io)).toBe(0);
    expect(new URL(stub.requests[0]!.url).searchParams.get("prefix")).toBe("myapp/");
  });

  it("token list marks expired tokens", async () => {
    const token = (id: string, expiresAt: string | null, expired: boolean) => ({
      id,
      scopes: [{ namespaces: ["app"], ops: ["read"] }],
      createdAt: "2026-01-01T00:00:00.000Z",
      expiresAt,
      expired,
    });
    const t = testIo(
      stubFetch(() =>
        json({
          tokens: [
            token("tok_old", "2026-01-02T00:00:00.000Z", true),
            token("tok_new", "2099-01-01T00:00:00.000Z", false),
          ],
        }),
      ),
    );
    expect(await run(["token", "list"], t.io)).toBe(0);
    expect(t.stdout()).toMatch(/tok_old .* EXPIRED 2026-01-02/);
    expect(t.stdout()).toMatch(/tok_new .* expires 2099-01-01/);
  });

  it("hints name the CLI's flags and commands", async () => {
    const t = testIo(stubFetch(() => problem(401)));
    await run(["kv", "get", "app/a"], t.io);
    expect(t.stderr()).toContain("edgecfg token list");
    const slow = testIo(stubFetch(() => Promise.reject(new TypeError("fetch failed"))));
    await run(["kv", "get", "app/a", "--timeout", "200"], slow.io);
    expect(slow.stderr()).toContain("--timeout <ms>");
  });

  it("4 for a missing key, 3 for a CAS conflict, 1 otherwise", async () => {
    const t = testIo(
      stubFetch((req) =>
        req.method === "GET"
          ? problem(404)
          : req.method === "PUT"
            ? problem(412, { currentETag: '"r9"' })
            : problem(500),
      ),
    );
    expect(await run(["kv", "get", "app/a"], t.io)).toBe(4);
    expect(await run(["kv", "put", "app/a", "x", "--if-match", '"r1"'], t.io)).toBe(3);
    expect(t.stderr()).toContain('its ETag is now "r9"');
    expect(await run(["kv", "delete", "app/a"], t.io)).toBe(1);
  });

  it("says how to authenticate on 401", async () => {
    const t = testIo(stubFetch(() => problem(401)));
    expect(await run(["kv", "get", "app/a"], t.io)).toBe(1);
    expect(t.stderr()).toContain(
      "set EDGECFG_TOKEN or pass --token; for local dev the token is dev-admin-token",
    );
  });

  it("says how to start a store when it is unreachable", async () => {
    const t = testIo(stubFetch(() => Promise.reject(new TypeError("fetch failed"))));
    expect(await run(["kv", "get", "app/a", "--timeout", "200"], t.io)).toBe(1);
    expect(t.stderr()).toContain("is the store running at http://store.test?");
  });

  it("prints errors as JSON on stderr with --json", async () => {
    const t = testIo(stubFetch(() => problem(404)));
    expect(await run(["kv", "get", "app/a", "--json"], t.io)).toBe(4);
    expect(JSON.parse(t.stderr())).toMatchObject({ error: { status: 404, exitCode: 4 } });
    expect(t.stdout()).toBe("");
  });

  it("3 when a txn's compares fail", async () => {
    const t = testIo(
      stubFetch(() => json({ succeeded: false, revision: 7, results: [] })),
      "",
      { "t.json": '{"compare": []}' },
    );
    expect(await run(["txn", "-f", "t.json", "--json"], t.io)).toBe(3);
    expect(JSON.parse(t.stdout())).toMatchObject({ succeeded: false });
  });
});

describe("cli commands", () => {
  it("txn across namespaces prints each namespace's revision", async () => {
    const stub = stubFetch((req) =>
      req.method === "POST"
        ? json({ succeeded: true, revisions: { app: 7, web: 12 }, results: [] }, 200, {
            "x-edgecfg-revision": "s0.7,s2.12",
          })
        : json(entry("web/b", 12)),
    );
    const body = {
      success: [
        { type: "put", key: "app/a", value: 1 },
        { type: "put", key: "web/b", value: 2 },
      ],
    };
    const t = testIo(stub, "", { "t.json": JSON.stringify(body) });
    expect(await run(["txn", "-f", "t.json"], t.io)).toBe(0);
    expect(t.stdout()).toContain("succeeded at revisions app=7, web=12");
    expect(JSON.parse(await new Response(stub.requests[0]!.body).text())).toEqual(body);
  });

  it("kv put reads stdin, infers JSON, honours --url/--token over the environment", async () => {
    const stub = stubFetch(() => json(entry("app/a", 3), 201, { etag: '"r3"' }));
    const t = testIo(stub, '{"beta":true}');
    expect(
      await run(
        ["kv", "put", "app/a", "-", "--url", "http://other.test", "--token", "flag", "--json"],
        t.io,
      ),
    ).toBe(0);
    const req = stub.requests[0]!;
    expect(req.url).toBe("http://other.test/v1/kv/app/a");
    expect(req.headers.get("authorization")).toBe("Bearer flag");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(await req.text()).toBe('{"beta":true}');
    expect(JSON.parse(t.stdout())).toMatchObject({ key: "app/a", etag: '"r3"', created: true });
  });

  it("kv get prints the raw bytes, or value and metadata with --json", async () => {
    const stub = stubFetch(
      () =>
        new Response('{"a":1}', {
          headers: { etag: '"r2"', "content-type": "application/json", "x-edgecfg-version": "1" },
        }),
    );
    const t = testIo(stub);
    await run(["kv", "get", "app/a"], t.io);
    expect(t.stdout()).toBe('{"a":1}');
    const j = testIo(stub);
    await run(["--json", "kv", "get", "app/a"], j.io);
    expect(JSON.parse(j.stdout())).toEqual({
      key: "app/a",
      etag: '"r2"',
      version: 1,
      contentType: "application/json",
      value: { a: 1 },
    });
  });

  it("kv rollback reads the old version by revision and writes it by CAS on the current ETag", async () => {
    const stub = stubFetch((req) => {
      const u = new URL(req.url);
      if (u.pathname.endsWith("/history")) {
        return json({
          key: "app/a",
          revision: 9,
          items: [
            { version: 3, modRevision: 9, deleted: false },
            { version: 2, modRevision: 6, deleted: false },
            { version: 1, modRevision: 2, deleted: false },
          ],
        });
      }
      if (req.method === "GET" && u.searchParams.get("revision") === "6")
        return new Response("old", { headers: { etag: '"r6"', "content-type": "text/plain" } });
      if (req.method === "GET")
        return new Response("new", { headers: { etag: '"r9"', "content-type": "text/plain" } });
      return json(entry("app/a", 10, 4), 200, { etag: '"r10"' });
    });
    const t = testIo(stub);
    expect(await run(["kv", "rollback", "app/a", "--to", "2"], t.io)).toBe(0);
    const putReq = stub.requests.find((r) => r.method === "PUT")!;
    expect(putReq.headers.get("if-match")).toBe('"r9"');
    expect(putReq.headers.get("content-type")).toBe("text/plain");
    expect(await putReq.text()).toBe("old");
    expect(t.stdout()).toContain("rolled back app/a to version 2");
    expect(await run(["kv", "rollback", "app/a", "--to", "7"], testIo(stub).io)).toBe(4);
  });

  it("ns import skips unchanged keys and writes the others by CAS", async () => {
    const stored: Record<string, { body: string; type: string; rev: number }> = {
      "app/same": { body: '{ "x": 1 }', type: "application/json", rev: 2 },
    };
    const stub = stubFetch(async (req) => {
      const key = new URL(req.url).pathname.slice("/v1/kv/".length);
      if (req.method === "GET") {
        const s = stored[key];
        return s
          ? new Response(s.body, { headers: { etag: `"r${s.rev}"`, "content-type": s.type } })
          : problem(404);
      }
      stored[key] = { body: await req.text(), type: req.headers.get("content-type")!, rev: 5 };
      return json(entry(key, 5), 201, { etag: '"r5"' });
    });
    const bundle = {
      namespace: "src",
      revision: 4,
      entries: {
        same: { x: 1 },
        neu: [1, 2],
        bin: { contentType: "application/octet-stream", base64: btoa("\x00\x01") },
      },
    };
    const t = testIo(stub, "", { "b.json": JSON.stringify(bundle) });
    expect(await run(["ns", "import", "app", "b.json", "--json"], t.io)).toBe(0);
    expect(JSON.parse(t.stdout())).toEqual({
      namespace: "app",
      created: 2,
      updated: 0,
      unchanged: 1,
      conflict: 0,
      refused: 0,
      conflicts: [],
    });
    expect(stored["app/bin"]).toMatchObject({ body: "\x00\x01", type: "application/octet-stream" });
    const puts = stub.requests.filter((r) => r.method === "PUT");
    expect(puts.every((r) => r.headers.get("if-none-match") === "*")).toBe(true);
  });

  it("ns export writes the bundle to a file", async () => {
    const bundle = { namespace: "app", revision: 4, entries: { a: 1 }, meta: {} };
    const t = testIo(stubFetch(() => json(bundle, 200, { etag: '"r4"' })));
    expect(await run(["ns", "export", "app", "-o", "out.json"], t.io)).toBe(0);
    expect(JSON.parse(t.files["out.json"]!)).toEqual(bundle);
    expect(t.stderr()).toContain("exported 1 keys of app at revision 4");
  });

  it("token create sends one scope and prints the secret once, on stdout", async () => {
    const stub = stubFetch(() =>
      json({ id: "tok_1", scopes: [], createdAt: "x", expiresAt: null, token: "secret" }, 201),
    );
    const t = testIo(stub);
    expect(
      await run(
        ["token", "create", "--ns", "app-*,web", "--scope", "read,write", "--expires", "30d"],
        t.io,
      ),
    ).toBe(0);
    expect(await stub.requests[0]!.json()).toEqual({
      scopes: [{ namespaces: ["app-*", "web"], ops: ["read", "write"] }],
      expiresInSeconds: 30 * 86_400,
    });
    expect(t.stdout()).toBe("secret\n");
  });
});

describe("cli helpers", () => {
  it("infers content types", () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(inferContentType(bytes("{}"), undefined, undefined)).toBe("application/json");
    expect(inferContentType(bytes("[1"), undefined, undefined)).toBe("text/plain; charset=utf-8");
    expect(inferContentType(bytes("hello"), "a.yaml", undefined)).toBe("application/yaml");
    expect(inferContentType(bytes("{}"), undefined, "text/x")).toBe("text/x");
    expect(inferContentType(new Uint8Array([0xff, 0xfe, 0x00]), "blob", undefined)).toBe(
      "application/octet-stream",
    );
  });

  it("parses durations and scopes", () => {
    expect(parseDurationSeconds("30d")).toBe(2_592_000);
    expect(parseDurationSeconds("90m")).toBe(5400);
    expect(() => parseDurationSeconds("soon")).toThrow(/not a duration/);
    expect(parseScopes("read, write")).toEqual(["read", "write"]);
    expect(() => parseScopes("")).toThrow();
  });
});

describe("cli cluster reshard", () => {
  const op = (state: string, moved: number, bytes: number) => ({
    id: "op-1",
    kind: "reshard",
    shard: 0,
    state,
    step: state === "done" ? "done" : "reshard",
    progress: { done: moved, total: 4, unit: "namespaces" },
    startedAt: "2026-01-01T00:00:00.000Z",
    reshard: { fromShards: 2, toShards: 3, moved, bytes, keys: moved * 10 },
  });

  it("POSTs the shard count with an Idempotency-Key and follows the operation with --wait", async () => {
    const stub = stubFetch((req, n) =>
      req.method === "POST"
        ? json(op("running", 0, 0), 202)
        : json(op(n < 2 ? "running" : "done", 4, 6400)),
    );
    const t = testIo(stub);
    expect(await run(["cluster", "reshard", "--shards", "3", "--wait"], t.io)).toBe(0);
    const post = stub.requests[0]!;
    expect(new URL(post.url).pathname).toBe("/v1/cluster/reshard");
    expect(await post.json()).toEqual({ shards: 3 });
    expect(post.headers.get("idempotency-key")).toBeTruthy();
    expect(new URL(stub.requests[2]!.url).search).toBe("?wait=1s");
    expect(t.stdout()).toContain(
      "operation op-1: reshard 2 -> 3 shards: done (4 of 4 namespaces moved, 6400 bytes)",
    );
  });

  it("2 for a count that is not a number of shards, 1 when the operation fails", async () => {
    const t = testIo(stubFetch(() => problem(500)));
    expect(await run(["cluster", "reshard", "--shards", "x"], t.io)).toBe(2);
    expect(t.stderr()).toContain("--shards takes a number of shards from 1");
    const failed = { ...op("failed", 1, 10), error: "shard 2 refused namespaceImport" };
    const f = testIo(
      stubFetch((req) => (req.method === "POST" ? json(op("running", 0, 0), 202) : json(failed))),
    );
    expect(await run(["cluster", "reshard", "--shards", "3", "--wait"], f.io)).toBe(1);
    expect(f.stderr()).toContain("operation op-1 failed: shard 2 refused namespaceImport");
  });
});
