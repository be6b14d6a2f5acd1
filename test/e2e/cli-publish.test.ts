// The deploy-script flow of safe publishing, with the CLI as users run it (`node bin/edgecfg.js`)
// against the store as `npm start` serves it: diff a folder, plan, review, apply exactly that
// plan with one compare-and-set; a plan gone stale exits 3 and writes nothing; rollback.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin/edgecfg.js");
const url = inject("e2eUrl");
const adminToken = inject("e2eAdminToken");
let dir: string;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const env = { PATH: process.env.PATH ?? "", EDGECFG_URL: url, EDGECFG_TOKEN: adminToken };
    const child = spawn(process.execPath, [bin, ...args], { env, cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end("");
  });
}

async function entries(
  ns: string,
): Promise<{ revision: number; entries: Record<string, unknown> }> {
  const got = await cli(["ns", "get", ns]);
  expect(got.code, got.stderr).toBe(0);
  return JSON.parse(got.stdout) as { revision: number; entries: Record<string, unknown> };
}

beforeAll(() => {
  execFileSync(
    process.execPath,
    [
      join(root, "node_modules/typescript/bin/tsc"),
      "-p",
      join(root, "src/cli/tsconfig.build.json"),
    ],
    { cwd: root, stdio: "inherit" },
  );
  dir = mkdtempSync(join(tmpdir(), "edgecfg-publish-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("edgecfg ns diff / apply / rollback end to end", () => {
  it("plans, reviews and applies a folder; a stale plan exits 3; rollback restores", async () => {
    const ns = `pub-${Date.now().toString(36)}`;
    const src = join(dir, "config");
    mkdirSync(join(src, "motd"), { recursive: true });
    writeFileSync(join(src, "flags.json"), JSON.stringify({ beta: true, limit: 10 }));
    writeFileSync(join(src, "motd/en.txt"), "hello");

    const diff = await cli(["ns", "diff", ns, src]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain(`+ ${ns}/flags`);
    expect(diff.stdout).toContain(`+ ${ns}/motd/en`);
    expect(diff.stdout).not.toContain("\u001b["); // piped: plain text

    const planned = await cli(["ns", "apply", ns, src, "--plan-out", "plan.json"]);
    expect(planned.code, planned.stderr).toBe(0);
    expect((await entries(ns)).entries).toEqual({}); // a plan writes nothing
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as {
      baseRevision: number;
      diff: { key: string; change: string }[];
    };
    expect(plan.baseRevision).toBe(0);
    expect(plan.diff.map((d) => d.change)).toEqual(["create", "create"]);

    const applied = await cli(["ns", "apply", ns, "--plan", "plan.json"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain("2 created");
    const first = await entries(ns);
    expect(first.entries).toEqual({
      flags: { beta: true, limit: 10 },
      "motd/en": { contentType: "text/plain; charset=utf-8", base64: btoa("hello") },
    });

    // A new plan, then someone else writes before it is applied: exit 3, nothing applied.
    writeFileSync(join(src, "flags.json"), JSON.stringify({ beta: false, limit: 10 }));
    const json = await cli(["ns", "diff", ns, src, "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      baseRevision: first.revision,
      diff: [
        { key: `${ns}/flags`, change: "update", before: { beta: true }, after: { beta: false } },
      ],
    });
    expect((await cli(["ns", "apply", ns, src, "--plan-out", "plan2.json"])).code).toBe(0);
    expect((await cli(["kv", "put", `${ns}/other`, "x"])).code).toBe(0);
    const stale = await cli(["ns", "apply", ns, "--plan", "plan2.json"]);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toContain("changed since the plan was made");
    expect((await entries(ns)).entries.flags).toEqual({ beta: true, limit: 10 });

    const pruned = await cli(["ns", "apply", ns, src, "--prune"]);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(Object.keys((await entries(ns)).entries).sort()).toEqual(["flags", "motd/en"]);

    const back = await cli(["ns", "rollback", ns, "--to-revision", String(first.revision)]);
    expect(back.code, back.stderr).toBe(0);
    expect((await entries(ns)).entries).toEqual(first.entries);
  });
});
