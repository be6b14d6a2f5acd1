// edgecfg/miniflare with plain Miniflare: the prebuilt Worker (npm run build:worker, which
// `npm test` runs first) beside a user's Worker bound to it as deployed, seeded from a fixture in
// the `ns export` format, reset to it, in one- and three-replica mode, and opening no port.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  edgecfgBinding,
  edgecfgWorker,
  type EdgecfgWorkerOptions,
} from "../../src/miniflare/index.ts";
import * as helper from "../../src/miniflare/index.ts";
import { listeningPorts } from "./sockets.ts";

const fixture = "test/miniflare/fixtures/shop.json";
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  exports: Record<string, { default: string }>;
};

/** The user's Worker: answers which checkout a country gets, through the binding. */
const app = {
  name: "app",
  modules: true,
  compatibilityDate: "2026-11-01",
  serviceBindings: edgecfgBinding(),
  script: `export default {
    async fetch(request, env) {
      const country = new URL(request.url).searchParams.get("country") ?? "";
      return Response.json(await env.EDGECFG.evaluate("shop", "checkout", { country }));
    },
  };`,
};

function start(options: EdgecfgWorkerOptions, workers: object[] = [app]): Miniflare {
  const all = [...workers, edgecfgWorker(options)];
  return new Miniflare(
    convertV4MiniflareOptions({ workers: all } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
}

type Binding = {
  read(key: string): Promise<{ value: unknown; contentType: string } | null>;
  write(key: string, value: unknown): Promise<unknown>;
  remove(key: string): Promise<boolean>;
  reset(): Promise<void>;
  fetch(input: string, init?: RequestInit): Promise<Response>;
};

async function bindingOf(mf: Miniflare): Promise<Binding> {
  return ((await mf.getBindings("app")) as { EDGECFG: Binding }).EDGECFG;
}

describe("one replica (the default)", () => {
  let mf: Miniflare;
  let edgecfg: Binding;
  beforeAll(async () => {
    mf = start({ seed: fixture });
    edgecfg = await bindingOf(mf);
  });
  afterAll(() => mf?.dispose());

  it("is seeded from the fixture before the first answer, and the user's Worker reads it", async () => {
    const de = await mf.dispatchFetch("http://app/?country=DE");
    expect(await de.json()).toMatchObject({ value: "onepage", reason: "TARGETING_MATCH" });
    expect(await edgecfg.read("shop/banner")).toMatchObject({ value: "Welcome" });
    expect((await edgecfg.read("shop/banner"))?.contentType).toBe("text/plain; charset=utf-8");
    expect((await edgecfg.read("shop/limits"))?.value).toEqual({ maxItems: 20 });
  });

  it("serves the HTTP API: over the binding without a token, on the Worker with one", async () => {
    const bundle = await (await edgecfg.fetch("http://edgecfg/v1/ns/shop")).json();
    expect(Object.keys((bundle as { entries: object }).entries).sort()).toEqual([
      "banner",
      "checkout",
      "limits",
    ]);
    const worker = await mf.getWorker("edgecfg");
    const anonymous = await worker.fetch("http://edgecfg/v1/kv/shop/limits");
    expect(anonymous.status).toBe(401);
    const admin = { headers: { Authorization: "Bearer dev-admin-token" } };
    const cluster = (await (await worker.fetch("http://edgecfg/v1/cluster", admin)).json()) as {
      shards: { replicas: unknown[] }[];
    };
    expect(cluster.shards.map((s) => s.replicas.length)).toEqual([1]);
  });

  it("reset brings seeded namespaces back and empties others written since", async () => {
    await edgecfg.write("shop/limits", { maxItems: 1 });
    await edgecfg.write("shop/added", true);
    await edgecfg.remove("shop/banner");
    const txn = await edgecfg.fetch("http://edgecfg/v1/txn", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ success: [{ type: "put", key: "scratch/a", value: 1 }] }),
    });
    expect(txn.status).toBe(200);
    await edgecfg.write("other/b", 2);
    await edgecfg.reset();
    expect((await edgecfg.read("shop/limits"))?.value).toEqual({ maxItems: 20 });
    expect((await edgecfg.read("shop/banner"))?.value).toBe("Welcome");
    expect(await edgecfg.read("shop/added")).toBeNull();
    expect(await edgecfg.read("scratch/a")).toBeNull();
    expect(await edgecfg.read("other/b")).toBeNull();
  });

  it("resets over HTTP too, with the admin token", async () => {
    await edgecfg.write("shop/limits", { maxItems: 2 });
    const worker = await mf.getWorker("edgecfg");
    const reset = "http://edgecfg/_edgecfg/reset";
    expect((await worker.fetch(reset, { method: "POST" })).status).toBe(401);
    const admin = { method: "POST", headers: { Authorization: "Bearer dev-admin-token" } };
    expect((await worker.fetch(reset, admin)).status).toBe(204);
    expect((await edgecfg.read("shop/limits"))?.value).toEqual({ maxItems: 20 });
  });
});

describe("three replicas", () => {
  it("runs the deployed shape: three members per shard, and a write reaches them", async () => {
    const mf = start({ seed: fixture, replicas: 3, shards: 2 });
    try {
      const edgecfg = await bindingOf(mf);
      await edgecfg.write("shop/limits", { maxItems: 3 });
      expect((await edgecfg.read("shop/limits"))?.value).toEqual({ maxItems: 3 });
      const cluster = (await (await edgecfg.fetch("http://edgecfg/v1/cluster")).json()) as {
        shards: { replicas: unknown[] }[];
      };
      expect(cluster.shards.map((s) => s.replicas.length)).toEqual([3, 3]);
    } finally {
      await mf.dispose();
    }
  });
});

type Cluster = { shards: { replicas: { id: string; role: string; term: number }[] }[] };

describe("failover through the fault switch", () => {
  it("a write succeeds on a new leader after the leader is stopped", {
    timeout: 30_000,
  }, async () => {
    const mf = start({ seed: fixture, replicas: 3 });
    try {
      const edgecfg = (await bindingOf(mf)) as Binding & {
        faults(replica: string, faults: { stopped: boolean }): Promise<{ stopped: boolean }>;
      };
      const leaderOf = async () => {
        const cluster = (await (
          await edgecfg.fetch("http://edgecfg/v1/cluster")
        ).json()) as Cluster;
        // A stopped leader is listed as last seen (its old term): the newest term leads.
        const leaders = cluster.shards[0]!.replicas.filter((r) => r.role === "leader");
        return leaders.sort((a, b) => b.term - a.term)[0]?.id;
      };
      const leader = await leaderOf();
      expect(leader).toBeDefined();
      expect(await edgecfg.faults(leader!, { stopped: true })).toMatchObject({ stopped: true });
      // The election takes an election timeout or more (longer on a busy machine): a 503 in
      // the meantime says to retry after Retry-After, as a user's test would.
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          await edgecfg.write("shop/limits", { maxItems: 4 });
          break;
        } catch (e) {
          if (!/503/.test((e as Error).message) || Date.now() > deadline) throw e;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      expect((await edgecfg.read("shop/limits"))?.value).toEqual({ maxItems: 4 });
      const next = await leaderOf();
      expect(next).toBeDefined();
      expect(next).not.toBe(leader);
    } finally {
      await mf.dispose();
    }
  });
});

describe("what the helper does not do", () => {
  it("opens no port: workerd listens on Miniflare's own socket only, with or without it", async () => {
    const alone = new Miniflare(
      convertV4MiniflareOptions({
        workers: [{ ...app, serviceBindings: {} }],
      } as Parameters<typeof convertV4MiniflareOptions>[0]),
    );
    await alone.ready;
    const without = listeningPorts().length;
    await alone.dispose();
    const mf = start({ seed: fixture });
    try {
      await mf.dispatchFetch("http://app/?country=DE");
      expect(without).toBeGreaterThan(0); // the check sees Miniflare's own socket
      expect(listeningPorts().length).toBe(without);
    } finally {
      await mf.dispose();
    }
  });

  it("refuses a fixture it cannot use, naming the file", () => {
    expect(() => edgecfgWorker({ seed: "test/miniflare/fixtures/nope.json" })).toThrow(
      /edgecfg seed test\/miniflare\/fixtures\/nope\.json: cannot read/,
    );
    expect(() => edgecfgWorker({ seed: [{ namespace: "a", entries: [] } as never] })).toThrow(
      /seed\[0\]: no "entries" object/,
    );
    expect(() => edgecfgWorker({ seed: [fixture, fixture] })).toThrow(/shop is in both/);
  });

  it("fails every call with the store's reason when a fixture's value is refused", async () => {
    const broken = { namespace: "shop", entries: { bad: { state: "ON", variants: { a: 1 } } } };
    const mf = start({ seed: [broken] });
    try {
      const edgecfg = await bindingOf(mf);
      // Miniflare's proxy throws the RPC's error synchronously: catch it in an async function.
      const failed = await (async () => edgecfg.read("shop/bad"))().then(
        () => "answered",
        (error: { message?: string }) => error.message,
      );
      expect(failed).toMatch(
        /edgecfg could not seed namespace shop \(seed\[0\]\): 422 .*"\/state"/,
      );
    } finally {
      await mf.dispose();
    }
  });
});

describe("the package", () => {
  it("ships the compiled helper and the prebuilt Worker it points at", async () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const file of [
      "dist/miniflare/index.js",
      "dist/worker/edgecfg.js",
      "dist/worker/edgecfg.json",
    ])
      expect(files).toContain(file);
    // What a user imports (package.json exports) gives the options the source gives.
    const exported = pkg.exports["./miniflare"]!.default;
    const dist = (await import(join(process.cwd(), exported))) as typeof helper;
    expect(dist.edgecfgWorker({ seed: fixture })).toEqual(helper.edgecfgWorker({ seed: fixture }));
  });
});
