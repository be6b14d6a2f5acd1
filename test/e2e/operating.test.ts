// README "Operating a cluster": its commands run as written (only `npx edgecfg` is the CLI built
// from these sources, and the URL that of a fresh store holding 40 namespaces), in order, each
// exiting 0; afterwards shard 0 has the members those commands leave it with, and the leader they
// chose, the ring has the 8 shards the reshard made, and every namespace still reads back.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocal, type LocalServer } from "../../scripts/local-server.ts";

const root = join(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "edgecfg-operating-"));
const build = mkdtempSync(join(root, "node_modules", ".edgecfg-operating-"));
let server: LocalServer;
beforeAll(async () => {
  // Its own build of the CLI (another e2e file builds dist/ at the same time), inside the
  // project so that its imports (commander) resolve from node_modules.
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  const config = join(root, "src/cli/tsconfig.build.json");
  execFileSync(process.execPath, [tsc, "-p", config, "--outDir", build], { cwd: root });
  server = await startLocal({ port: 0, stateDir: join(dir, "state") });
}, 120_000);
afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
});

it("the Operating a cluster commands run as written", { timeout: 120_000 }, async () => {
  const url = server.url.toString().replace(/\/$/, "");
  const headers = { Authorization: `Bearer ${server.adminToken}` };
  // Shard 0 holds the directory, so its replicas exist once the store answered anything.
  await fetch(`${url}/v1/cluster`, { headers });
  const namespaces = Array.from({ length: 40 }, (_, i) => `op-ns${i}`);
  for (const ns of namespaces) {
    const put = await fetch(`${url}/v1/kv/${ns}/k`, { method: "PUT", headers, body: ns });
    expect(put.status).toBe(201);
  }
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## Operating a cluster\n");
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(start))![1]!;
  const bin = join(build, "edgecfg.mjs"); // as bin/edgecfg.js, over this build
  writeFileSync(bin, 'const { main } = await import("./cli/main.js");\nawait main();\n');
  const edgecfg = `edgecfg() { '${process.execPath}' '${bin}' "$@"; }`;
  const script = `set -euo pipefail\n${edgecfg}\n${block.replaceAll("npx edgecfg", "edgecfg").replaceAll("http://127.0.0.1:8787", url)}`;
  writeFileSync(join(dir, "operating.sh"), script);
  const out = execFileSync("bash", [join(dir, "operating.sh")], { encoding: "utf8" });
  expect(out).toMatch(/addReplica on shard 0: new replica s0-r3\/g1: done/);
  expect(out).toMatch(/reshard 4 -> 8 shards: done \((\d+) of \1 namespaces moved/);
  for (const ns of namespaces) {
    const got = await fetch(`${url}/v1/kv/${ns}/k`, { headers });
    expect(await got.text(), ns).toBe(ns);
  }
  const cluster = (await (await fetch(`${url}/v1/cluster`, { headers })).json()) as {
    shards: { shard: number; replicas: { id: string; role: string; voter: boolean }[] }[];
    operations: unknown[];
    ring: { shards: number };
  };
  expect(cluster.ring.shards).toBe(8);
  const shard0 = cluster.shards.find((s) => s.shard === 0)!;
  expect(shard0.replicas.map((r) => r.id).sort()).toEqual(["s0-r0/g1", "s0-r2/g1", "s0-r4/g1"]);
  expect(shard0.replicas.find((r) => r.role === "leader")?.id).toBe("s0-r2/g1");
  expect(cluster.operations).toEqual([]);
});
