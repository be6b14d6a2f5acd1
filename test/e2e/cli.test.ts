// The CLI as users run it: `node bin/edgecfg.js …` in a child process against the store served as
// `npm start` serves it (URL and admin token from the e2e globalSetup through inject()).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { shardIndexFor } from "../../src/ring/ring.ts";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin/edgecfg.js");
const url = inject("e2eUrl");
const adminToken = inject("e2eAdminToken");
let dir: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion; `input` is piped to its stdin. */
function cli(
  args: string[],
  options: { input?: string; token?: string | null } = {},
): Promise<Result> {
  return new Promise((done, fail) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", EDGECFG_URL: url };
    const token = options.token === undefined ? adminToken : options.token;
    if (token !== null) env.EDGECFG_TOKEN = token;
    const child = spawn(process.execPath, [bin, ...args], { env, cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

let counter = 0;
function freshNs(): string {
  counter += 1;
  return `cli-${Date.now().toString(36)}-${counter}`;
}

beforeAll(() => {
  // The bin runs the compiled CLI (dist/), so build it from the current sources first.
  execFileSync(
    process.execPath,
    [
      join(root, "node_modules/typescript/bin/tsc"),
      "-p",
      join(root, "src/cli/tsconfig.build.json"),
    ],
    { cwd: root, stdio: "inherit" },
  );
  dir = mkdtempSync(join(tmpdir(), "edgecfg-cli-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("edgecfg CLI end to end", () => {
  it("prints the commands and exit codes with --help (exit 0), usage errors exit 2", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    for (const noun of ["kv", "ns", "txn", "token", "cluster"])
      expect(help.stdout).toContain(`  ${noun} `);
    expect(help.stdout).toContain("3  compare-and-set conflict");
    expect((await cli(["kv", "frobnicate"])).code).toBe(2);
    expect((await cli(["kv", "get"])).code).toBe(2);
  });

  it("puts and gets with --json; missing keys exit 4; create-only on an existing key exits 3", async () => {
    const key = `${freshNs()}/flags`;
    const put = await cli(["kv", "put", key, '{"beta": true}', "--json"]);
    expect(put.code, put.stderr).toBe(0);
    const written = JSON.parse(put.stdout) as {
      etag: string;
      created: boolean;
      entry: { contentType: string };
    };
    expect(written).toMatchObject({ created: true, entry: { contentType: "application/json" } });
    const got = await cli(["kv", "get", key, "--json"]);
    expect(JSON.parse(got.stdout)).toMatchObject({
      key,
      etag: written.etag,
      value: { beta: true },
    });
    expect((await cli(["kv", "get", key])).stdout).toBe('{"beta": true}');
    const missing = await cli(["kv", "get", `${key}-nope`]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("does not exist");
    expect((await cli(["kv", "put", key, "x", "--create-only"])).code).toBe(3);
  });

  it("reads values from stdin and files, with content types", async () => {
    const ns = freshNs();
    writeFileSync(join(dir, "motd.txt"), "hello\n");
    expect((await cli(["kv", "put", `${ns}/motd`, "--file", "motd.txt"])).code).toBe(0);
    expect((await cli(["kv", "put", `${ns}/piped`, "-"], { input: "from stdin" })).code).toBe(0);
    const meta = JSON.parse((await cli(["kv", "get", `${ns}/motd`, "--meta"])).stdout) as {
      contentType: string;
    };
    expect(meta.contentType).toBe("text/plain; charset=utf-8");
    expect((await cli(["kv", "get", `${ns}/piped`])).stdout).toBe("from stdin");
  });

  it("says what to do on a bad token (exit 1)", async () => {
    const res = await cli(["kv", "get", `${freshNs()}/k`], { token: "wrong" });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("set EDGECFG_TOKEN or pass --token");
  });

  it("two concurrent compare-and-set scripts: one wins, the other exits 3", async () => {
    const key = `${freshNs()}/counter`;
    await cli(["kv", "put", key, "0"]);
    const { etag } = JSON.parse((await cli(["kv", "get", key, "--json"])).stdout) as {
      etag: string;
    };
    const results = await Promise.all(
      ["1", "2"].map((v) => cli(["kv", "put", key, v, "--if-match", etag])),
    );
    expect(results.map((r) => r.code).sort()).toEqual([0, 3]);
    const loser = results.find((r) => r.code === 3)!;
    expect(loser.stderr).toContain("the key changed since it was read");
  });

  it("rolls back by writing the old value as a new version; history is kept", async () => {
    const key = `${freshNs()}/cfg`;
    for (const v of ['{"v":1}', '{"v":2}', '{"v":3}'])
      expect((await cli(["kv", "put", key, v])).code).toBe(0);
    const rolled = await cli(["kv", "rollback", key, "--to", "1", "--json"]);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(JSON.parse(rolled.stdout)).toMatchObject({ restoredVersion: 1, entry: { version: 4 } });
    expect((await cli(["kv", "get", key])).stdout).toBe('{"v":1}');
    const history = JSON.parse((await cli(["kv", "history", key, "--json"])).stdout) as {
      version: number;
    }[];
    expect(history.map((h) => h.version)).toEqual([4, 3, 2, 1]);
    expect((await cli(["kv", "rollback", key, "--to", "99"])).code).toBe(4);
  });

  it("exports a namespace and imports it elsewhere, idempotently", async () => {
    const from = freshNs();
    const to = freshNs();
    writeFileSync(join(dir, "blob.bin"), Buffer.from([0, 1, 2, 255]));
    await cli(["kv", "put", `${from}/json`, '{"a":[1,2]}']);
    await cli(["kv", "put", `${from}/text`, "plain"]);
    await cli(["kv", "put", `${from}/dir/blob`, "--file", "blob.bin"]);
    const exported = await cli(["ns", "export", from, "-o", "bundle.json"]);
    expect(exported.code, exported.stderr).toBe(0);
    const imported = await cli(["ns", "import", to, "bundle.json", "--json"]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({
      created: 3,
      updated: 0,
      unchanged: 0,
      conflicts: [],
    });
    const original = JSON.parse(readFileSync(join(dir, "bundle.json"), "utf8")) as {
      entries: unknown;
    };
    const copy = JSON.parse((await cli(["ns", "export", to])).stdout) as {
      entries: unknown;
      namespace: string;
    };
    expect(copy.namespace).toBe(to);
    expect(copy.entries).toEqual(original.entries);
    const again = await cli(["ns", "import", to, "bundle.json", "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
  });

  it("runs a txn from a file; failed compares exit 3", async () => {
    const ns = freshNs();
    await cli(["kv", "put", `${ns}/a`, "1"]);
    const txn = {
      compare: [{ key: `${ns}/a`, target: "version", op: "=", value: 7 }],
      success: [],
      failure: [{ type: "get", key: `${ns}/a` }],
    };
    writeFileSync(join(dir, "txn.json"), JSON.stringify(txn));
    const res = await cli(["txn", "-f", "txn.json", "--json"]);
    expect(res.code).toBe(3);
    expect(JSON.parse(res.stdout)).toMatchObject({ succeeded: false });
  });

  it("runs a txn across namespaces on different shards, all or nothing", async () => {
    const a = freshNs();
    let b = freshNs();
    // npm start serves wrangler.toml's 4 shards; the ring must put the two apart.
    while (shardIndexFor(b, 4) === shardIndexFor(a, 4)) b = freshNs();
    const txn = {
      compare: [{ key: `${b}/y`, target: "exists", op: "=", value: false }],
      success: [
        { type: "put", key: `${a}/x`, value: 1 },
        { type: "put", key: `${b}/y`, value: 2 },
      ],
    };
    writeFileSync(join(dir, "cross.json"), JSON.stringify(txn));
    const res = await cli(["txn", "-f", "cross.json"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^succeeded at revisions /);
    expect((await cli(["kv", "get", `${a}/x`])).stdout).toBe("1");
    expect((await cli(["kv", "get", `${b}/y`])).stdout).toBe("2");
    const again = await cli(["txn", "-f", "cross.json", "--json"]);
    expect(again.code).toBe(3);
    expect(JSON.parse(again.stdout)).toMatchObject({ succeeded: false });
  });

  it("mints a scoped token, prints it once, and the token works within its scope", async () => {
    const ns = freshNs();
    await cli(["kv", "put", `${ns}/k`, "v"]);
    const minted = await cli(["token", "create", "--ns", ns, "--scope", "read", "--expires", "1h"]);
    expect(minted.code, minted.stderr).toBe(0);
    const token = minted.stdout.trim();
    expect(minted.stderr).toContain("shown only this once");
    expect((await cli(["kv", "get", `${ns}/k`], { token })).stdout).toBe("v");
    const denied = await cli(["kv", "put", `${ns}/k`, "w"], { token });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("scope");
    const list = JSON.parse((await cli(["token", "list", "--json"])).stdout) as { id: string }[];
    expect(list.length).toBeGreaterThan(0);
  });

  it("watches a prefix as NDJSON until Ctrl-C (exit 130)", async () => {
    const ns = freshNs();
    const first = JSON.parse((await cli(["kv", "put", `${ns}/a`, '{"n":1}', "--json"])).stdout) as {
      entry: { modRevision: number };
    };
    const args = [
      "kv",
      "watch",
      `${ns}/`,
      "--json",
      "--from-revision",
      String(first.entry.modRevision),
    ];
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? "", EDGECFG_URL: url, EDGECFG_TOKEN: adminToken },
    });
    const lines: string[] = [];
    const waiters: (() => void)[] = [];
    let buffer = "";
    child.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      lines.push(...parts);
      waiters.splice(0).forEach((w) => w());
    });
    const line = async (n: number): Promise<unknown> => {
      while (lines.length <= n) await new Promise<void>((r) => waiters.push(r));
      return JSON.parse(lines[n]!);
    };
    expect(await line(0)).toMatchObject({ type: "put", key: `${ns}/a`, value: { n: 1 } });
    // The watch is connected now: a change made after it arrives next.
    await cli(["kv", "delete", `${ns}/a`]);
    expect(await line(1)).toMatchObject({ type: "delete", key: `${ns}/a` });
    const code = new Promise<number | null>((done) => child.on("close", done));
    child.kill("SIGINT");
    expect(await code).toBe(130);
    expect(lines).toHaveLength(2);
  });

  it("cluster status prints JSON", async () => {
    const res = await cli(["cluster", "status", "--json"]);
    expect((await cli(["cluster", "status"])).stdout).toMatch(/^backend \S+, \d+ shards/);
    expect(res.code, res.stderr).toBe(0);
    expect(() => JSON.parse(res.stdout)).not.toThrow();
  });

  it("cluster: a status table, replica add --wait, leader transfer --wait, refusals", async () => {
    await cli(["kv", "put", `${freshNs()}/k`, "1"]);
    const status = await cli(["cluster", "status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/SHARD\s+REPLICA\s+LOCATION\s+ROLE\s+VOTER\s+LAG\s+LAST CONTACT/);
    const doc = JSON.parse((await cli(["cluster", "status", "--json"])).stdout) as {
      shards: { shard: number; replicas: { id: string; role: string }[] }[];
    };
    const shard = doc.shards.find((s) => s.replicas.some((r) => r.role === "leader"))!;
    const added = await cli([
      "cluster",
      "replica",
      "add",
      "--shard",
      String(shard.shard),
      "--location",
      "",
      "--wait",
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/addReplica on shard \d+: new replica \S+: done/);
    const to = shard.replicas.find((r) => r.role !== "leader")!.id;
    const moved = await cli([
      "cluster",
      "leader",
      "transfer",
      "--shard",
      String(shard.shard),
      "--to",
      to,
      "--wait",
      "--json",
    ]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ kind: "transferLeader", state: "done" });
    expect((await cli(["cluster", "op", "wait", "op-nope"])).code).toBe(4);
    const bad = await cli(["cluster", "replica", "add", "--shard", "x", "--location", ""]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--shard");
  });
});
