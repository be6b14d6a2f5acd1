// The audit flow as a deploy script runs it against `npm start`: a named token writes with
// --reason (sent as X-Edgecfg-Reason over a real socket, UTF-8 included), then `kv blame` and
// `audit` say who changed what, when and why; exit codes as the rest of the CLI.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

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

function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((done, fail) => {
    const childEnv = {
      PATH: process.env.PATH ?? "",
      EDGECFG_URL: url,
      EDGECFG_TOKEN: adminToken,
      ...env,
    };
    const child = spawn(process.execPath, [bin, ...args], { env: childEnv, cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end("");
  });
}

beforeAll(() => {
  // The bin runs the compiled CLI (dist/), so build it from the current sources first.
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "src/cli/tsconfig.build.json")], {
    cwd: root,
    stdio: "inherit",
  });
  dir = mkdtempSync(join(tmpdir(), "edgecfg-cli-audit-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Version {
  revision: number;
  version: number;
  deleted: boolean;
  at: string;
  actor?: { kind: string; id?: string; name?: string };
  reason?: string;
  requestId?: string;
}

describe("edgecfg audit and kv blame, end to end", () => {
  it("a named token's writes with --reason show in blame and audit, newest first", async () => {
    const ns = `audit-${Date.now().toString(36)}`;
    const key = `${ns}/limits`;
    const minted = await cli([
      "token",
      "create",
      "--ns",
      ns,
      "--scope",
      "read,write",
      "--name",
      "ci-deploy",
      "--json",
    ]);
    expect(minted.code, minted.stderr).toBe(0);
    const ci = JSON.parse(minted.stdout) as { id: string; token: string };
    const reason = "Limit für den Verkauf erhöht ✓";
    const first = await cli(["--reason", reason, "kv", "put", key, '{"rps": 500}'], {
      EDGECFG_TOKEN: ci.token,
    });
    expect(first.code, first.stderr).toBe(0);
    const second = await cli(["kv", "put", key, '{"rps": 800}'], { EDGECFG_REASON: "peak" });
    expect(second.code, second.stderr).toBe(0);

    const blame = await cli(["kv", "blame", key, "--json"]);
    expect(blame.code, blame.stderr).toBe(0);
    const versions = JSON.parse(blame.stdout) as Version[];
    expect(versions.map((v) => [v.version, v.actor, v.reason])).toEqual([
      [2, { kind: "admin" }, "peak"],
      [1, { kind: "token", id: ci.id, name: "ci-deploy" }, reason],
    ]);
    expect(versions[0]!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const table = await cli(["kv", "blame", key]);
    expect(table.stdout.split("\n")[0]).toMatch(/^REVISION\s+TIME\s+ACTOR\s+VERSION\s+REASON$/);
    expect(table.stdout).toContain(`ci-deploy (${ci.id})`);
    expect(table.stdout).toContain(reason);

    expect((await cli(["--reason", "tidy up", "kv", "delete", key])).code).toBe(0);
    const audit = await cli(["audit", ns, "--json"]);
    expect(audit.code, audit.stderr).toBe(0);
    const items = JSON.parse(audit.stdout) as Array<{ op: string; reason?: string }>;
    expect(items.map((i) => [i.op, i.reason])).toEqual([
      ["delete", "tidy up"],
      ["put", "peak"],
      ["put", reason],
    ]);
    const auditTable = await cli(["audit", ns, "--limit", "1"]);
    expect(auditTable.stdout.trim().split("\n")).toHaveLength(2);
    expect(auditTable.stdout).toMatch(/r\d+\s+\S+\s+admin\s+delete\s+\S+\s+tidy up/);
  });

  it("refuses a reason over 256 bytes before any request (exit 2); bad arguments exit 2, 4 or 1", async () => {
    const key = `audit-${Date.now().toString(36)}-x/a`;
    const long = await cli(["--reason", "é".repeat(129), "kv", "put", key, "1"]);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain("--reason must be one line of at most 256 bytes");
    expect((await cli(["kv", "get", key])).code).toBe(4);
    expect((await cli(["kv", "blame", key])).code).toBe(4);
    expect((await cli(["audit", "Not-A-Namespace"])).code).toBe(2);
    const forbidden = await cli(["audit", "elsewhere"], { EDGECFG_TOKEN: "no-such-token" });
    expect(forbidden.code).toBe(1);
  });
});
