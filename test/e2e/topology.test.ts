// Topology is data (http-api.md "Topology is data"): the store keeps serving the shape it was
// seeded with when wrangler.toml's SHARDS, REPLICAS_PER_SHARD or RAFT_GENERATION change, and says
// so in /v1/cluster's pendingConfig and in one startup line. Each step restarts the store on the
// same state folder, as an operator editing wrangler.toml and running `npm start` again would.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pendingConfigLine, startLocal, type LocalServer } from "../../scripts/local-server.ts";

const stateDir = mkdtempSync(join(tmpdir(), "edgecfg-topology-"));
const token = "topology-admin-token";
const namespaces = Array.from({ length: 50 }, (_, i) => `topo-${i}`);
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

async function withServer<T>(
  vars: Record<string, string>,
  body: (url: string, server: LocalServer) => Promise<T>,
) {
  const server = await startLocal({ port: 0, stateDir, adminToken: token, vars });
  try {
    return await body(server.url.toString().replace(/\/$/, ""), server);
  } finally {
    await server.dispose();
  }
}

const auth = { Authorization: `Bearer ${token}` };

async function put(url: string, key: string, value: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/kv/${key}`, {
    method: "PUT",
    headers: { ...auth, "Content-Type": "text/plain", ...headers },
    body: value,
  });
  return { status: res.status, etag: res.headers.get("ETag"), body: await res.text() };
}

async function get(url: string, key: string) {
  const res = await fetch(`${url}/v1/kv/${key}`, { headers: auth });
  return { status: res.status, etag: res.headers.get("ETag"), body: await res.text() };
}

interface Cluster {
  ring: { shards: number; epoch: number };
  pendingConfig: { variable: string; stored: unknown; configured: unknown; apply: string }[] | null;
  shards: { shard: number; replicas: { id: string }[] }[];
}

async function cluster(url: string): Promise<Cluster> {
  return (await (await fetch(`${url}/v1/cluster`, { headers: auth })).json()) as Cluster;
}

describe("topology is data, seeded once from wrangler.toml", { timeout: 120_000 }, () => {
  const etags = new Map<string, string>();

  it("a fresh store is seeded from [vars]: 4 shards, epoch 1, nothing pending", async () => {
    await withServer({}, async (url) => {
      for (const ns of namespaces) {
        const w = await put(url, `${ns}/k`, ns);
        expect(w.status).toBe(201);
        etags.set(ns, w.etag!);
      }
      const c = await cluster(url);
      expect(c.ring).toMatchObject({ shards: 4, epoch: 1 });
      expect(c.pendingConfig).toBeNull();
    });
  });

  it("SHARDS 4 -> 5: every key is still there, a create-only PUT is refused, nothing moves", async () => {
    await withServer({ SHARDS: "5" }, async (url, server) => {
      for (const ns of namespaces) {
        expect(await get(url, `${ns}/k`)).toMatchObject({ status: 200, body: ns });
        const again = await put(url, `${ns}/k`, "again", { "If-None-Match": "*" });
        expect(again.status, `${ns}: ${again.body}`).toBe(412);
      }
      const c = await cluster(url);
      expect(c.ring.shards).toBe(4);
      expect(c.pendingConfig).toEqual([
        expect.objectContaining({ variable: "SHARDS", stored: 4, configured: 5 }),
      ]);
      const line = await pendingConfigLine(server.url, token);
      expect(line).toMatch(/^wrangler\.toml differs from the stored topology: SHARDS 4 -> 5/);
      expect(line).not.toContain("\n");
      expect((await put(url, "topo-new/k", "written at 5")).status).toBe(201);
    });
  });

  it("back to SHARDS 4: the write made meanwhile is there, nothing pending", async () => {
    await withServer({}, async (url, server) => {
      expect(await get(url, "topo-new/k")).toMatchObject({ status: 200, body: "written at 5" });
      expect((await cluster(url)).pendingConfig).toBeNull();
      expect(await pendingConfigLine(server.url, token)).toBeNull();
    });
  });

  it("REPLICAS_PER_SHARD 3 -> 5: reads and writes go on at once; no replica is created", async () => {
    await withServer({ REPLICAS_PER_SHARD: "5" }, async (url) => {
      const started = Date.now();
      for (const ns of namespaces.slice(0, 10))
        expect(await get(url, `${ns}/k`)).toMatchObject({ status: 200, body: ns });
      expect(
        (await put(url, "topo-1/k", "updated", { "If-Match": etags.get("topo-1")! })).status,
      ).toBe(200);
      expect(Date.now() - started).toBeLessThan(10_000);
      const c = await cluster(url);
      for (const shard of c.shards) expect(shard.replicas).toHaveLength(3);
      expect(c.pendingConfig).toEqual([
        expect.objectContaining({ variable: "REPLICAS_PER_SHARD", stored: 3, configured: 5 }),
      ]);
    });
  });

  it("RAFT_GENERATION=2 (the hint an older release printed) finds every key and is reported", async () => {
    await withServer({ RAFT_GENERATION: "2" }, async (url) => {
      for (const ns of namespaces.slice(2))
        expect(await get(url, `${ns}/k`)).toMatchObject({ status: 200, body: ns });
      expect(await get(url, "topo-1/k")).toMatchObject({ status: 200, body: "updated" });
      const c = await cluster(url);
      expect(c.pendingConfig).toEqual([
        expect.objectContaining({
          variable: "RAFT_GENERATION",
          apply: expect.stringMatching(/no longer read/),
        }),
      ]);
    });
  });
});
