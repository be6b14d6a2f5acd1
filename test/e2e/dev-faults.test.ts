// Fault injection over HTTP (/v1/dev/faults), on a store of its own served as `npm start` serves
// it: a cut follower costs no write, an isolated leader is replaced, a stopped replica restarts
// clean, clear undoes everything; and the same bundle without the local server's EDGECFG_DEV
// binding (exactly as deployed) answers 404, as for a path no route takes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocal, type LocalServer } from "../../scripts/local-server.ts";
import { nodeIo, run } from "../../src/cli/main.ts";

const dir = mkdtempSync(join(tmpdir(), "edgecfg-faults-"));
const token = "faults-token";
const auth = { Authorization: `Bearer ${token}` };
let server: LocalServer;
let url: string;
beforeAll(async () => {
  server = await startLocal({ port: 0, stateDir: join(dir, "a"), adminToken: token });
  url = server.url.toString().replace(/\/$/, "");
}, 120_000);
afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const fault = async (body: unknown) =>
  fetch(`${url}/v1/dev/faults`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
const put = async (key: string, value: string) =>
  (await fetch(`${url}/v1/kv/${key}`, { method: "PUT", headers: auth, body: value })).status;

async function shardOf(key: string) {
  const res = await fetch(`${url}/v1/kv/${key}`, { headers: auth });
  await res.arrayBuffer();
  const shard = Number(/^s(\d+)\./.exec(res.headers.get("X-Edgecfg-Revision")!)![1]);
  const cluster = (await (await fetch(`${url}/v1/cluster`, { headers: auth })).json()) as {
    shards: { shard: number; replicas: { id: string; role: string; lag: number | null }[] }[];
  };
  return cluster.shards.find((s) => s.shard === shard)!;
}

/** Retries a write until it is acknowledged (an election may be running); its time. */
async function writeEventually(key: string, value: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if ((await put(key, value)) < 300) return Date.now() - started;
    if (Date.now() - started > 15_000) throw new Error(`no write acknowledged in 15 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("fault injection (local only)", { timeout: 60_000 }, () => {
  it("a cut follower costs no write; clear lists no fault left", async () => {
    expect(await put("faults/k", "1")).toBe(201);
    const shard = await shardOf("faults/k");
    const follower = shard.replicas.find((r) => r.role !== "leader")!.id;
    const res = await fault({ action: "cut", replica: follower });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      replicas: [{ replica: follower, faults: { dropInbound: true, dropOutbound: true } }],
    });
    for (let i = 0; i < 10; i++) expect(await put("faults/k", String(i))).toBe(200);
    const cleared = await fetch(`${url}/v1/dev/faults`, { method: "DELETE", headers: auth });
    expect(cleared.status).toBe(200);
    const listed = (await (await fetch(`${url}/v1/dev/faults`, { headers: auth })).json()) as {
      replicas: { faults: { dropInbound: boolean; dropOutbound: boolean; stopped: boolean } }[];
    };
    expect(
      listed.replicas.every(
        (r) => !r.faults.dropInbound && !r.faults.dropOutbound && !r.faults.stopped,
      ),
    ).toBe(true);
  });

  it("an isolated leader is replaced: writes resume under another one", async () => {
    expect(await put("faults/l", "1")).toBeLessThan(300);
    const before = await shardOf("faults/l");
    const leader = before.replicas.find((r) => r.role === "leader")!.id;
    expect((await fault({ action: "isolateLeader", shard: before.shard })).status).toBe(200);
    const ms = await writeEventually("faults/l", "2");
    console.log(`writes resumed ${ms} ms after the leader was isolated`);
    const after = await shardOf("faults/l");
    expect(after.replicas.find((r) => r.role === "leader")?.id).not.toBe(leader);
    await fetch(`${url}/v1/dev/faults`, { method: "DELETE", headers: auth });
  });

  it("a stopped replica refuses; a restart brings it back with its faults gone", async () => {
    const shard = await shardOf("faults/k");
    const follower = shard.replicas.find((r) => r.role !== "leader")!.id;
    expect((await fault({ action: "stop", replica: follower })).status).toBe(200);
    expect((await fault({ action: "restart", replica: follower })).status).toBe(200);
    const listed = (await (await fetch(`${url}/v1/dev/faults`, { headers: auth })).json()) as {
      replicas: { replica: string; faults: { stopped: boolean } }[];
    };
    expect(listed.replicas.find((r) => r.replica === follower)!.faults.stopped).toBe(false);
    // And it rejoins: the leader's next rounds reach the restarted object (a cached stub of the
    // old one would stay broken, and the follower would campaign alone forever).
    let rejoined = false;
    for (let i = 0; i < 100 && !rejoined; i++) {
      await put("faults/k", `after-restart-${i}`);
      const s = await shardOf("faults/k");
      const r = s.replicas.find((x) => x.id === follower) as
        | { role: string; lag?: number | null }
        | undefined;
      rejoined = r?.role === "follower" && r.lag === 0;
      if (!rejoined) await new Promise((res) => setTimeout(res, 100));
    }
    expect(rejoined).toBe(true);
  });

  it("a failing disk resets its replica, a skewed clock costs nothing: writes go on", async () => {
    const shard = await shardOf("faults/k");
    const [a, b] = shard.replicas.filter((r) => r.role !== "leader").map((r) => r.id);
    expect((await fault({ action: "skewClock", replica: a, ms: 5_000 })).status).toBe(200);
    expect((await fault({ action: "failWrites", replica: b })).status).toBe(200);
    for (let i = 0; i < 20; i++)
      expect(await writeEventually("faults/k", `d${i}`)).toBeLessThan(5_000);
    // The failing replica reset itself on its next write and came back without its faults.
    const listed = (await (await fetch(`${url}/v1/dev/faults`, { headers: auth })).json()) as {
      replicas: { replica: string; faults: { failWrites: boolean; clockSkewMs: number } }[];
    };
    expect(listed.replicas.find((r) => r.replica === b)!.faults.failWrites).toBe(false);
    expect(listed.replicas.find((r) => r.replica === a)!.faults.clockSkewMs).toBe(5_000);
    const read = await fetch(`${url}/v1/kv/faults/k`, { headers: auth });
    expect(await read.text()).toBe("d19");
    await fetch(`${url}/v1/dev/faults`, { method: "DELETE", headers: auth });
  });

  it("a fault scheduled to begin later begins then, and one with forMs ends then", async () => {
    const shard = await shardOf("faults/k");
    const follower = shard.replicas.find((r) => r.role !== "leader")!.id;
    const stoppedNow = async () => {
      const listed = (await (await fetch(`${url}/v1/dev/faults`, { headers: auth })).json()) as {
        replicas: { replica: string; faults: { stopped: boolean } }[];
      };
      return listed.replicas.find((r) => r.replica === follower)!.faults.stopped;
    };
    expect(
      (await fault({ action: "stop", replica: follower, afterMs: 400, forMs: 400 })).status,
    ).toBe(200);
    expect(await stoppedNow()).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(await stoppedNow()).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    expect(await stoppedNow()).toBe(false);
  });

  it("refuses an unknown action or replica with 400, and needs the admin token", async () => {
    expect((await fault({ action: "melt" })).status).toBe(400);
    expect((await fault({ action: "cut", replica: "nope" })).status).toBe(400);
    const anonymous = await fetch(`${url}/v1/dev/faults`);
    expect(anonymous.status).toBe(401);
  });

  it("edgecfg dev fault: cut and list from the CLI, --for clears, a usage error exits 2", async () => {
    const shard = await shardOf("faults/k");
    const follower = shard.replicas.find((r) => r.role !== "leader")!.id;
    const cli = async (...args: string[]) => {
      let stdout = "";
      let stderr = "";
      const io = {
        ...nodeIo(),
        stdout: { write: (s: string | Uint8Array) => void (stdout += String(s)) },
        stderr: { write: (s: string | Uint8Array) => void (stderr += String(s)) },
        env: { EDGECFG_URL: url, EDGECFG_TOKEN: token },
      };
      return { code: await run(args, io), stdout, stderr };
    };
    const cut = await cli("dev", "fault", "cut", follower, "--for", "1");
    expect(cut.code, cut.stderr).toBe(0);
    expect(cut.stdout).toBe("cut for 1 s: 1 replica(s)\n");
    expect((await cli("dev", "fault", "list")).stdout).toContain(
      `${follower}  dropInbound, dropOutbound`,
    );
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await cli("dev", "fault", "list")).stdout).toContain(`${follower}  -`);
    expect((await cli("dev", "fault", "latency", "--location", "", "--ms", "x")).code).toBe(2);
  });

  it("the Worker as deployed (no EDGECFG_DEV binding) has no such path", async () => {
    const deployed = await startLocal({
      port: 0,
      stateDir: join(dir, "b"),
      adminToken: token,
      devFaults: false,
    });
    try {
      const base = deployed.url.toString().replace(/\/$/, "");
      for (const method of ["GET", "POST", "DELETE"]) {
        const res = await fetch(`${base}/v1/dev/faults`, { method, headers: auth });
        expect(res.status, method).toBe(404);
        expect(await res.text()).toContain("no endpoint at /v1/dev/faults");
      }
    } finally {
      await deployed.dispose();
    }
  });
});
