// `edgecfg lock NAME -- command`, `edgecfg lease …` and `kv put --lease`, in-process against a
// stub store.
import { describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { entry, json, problem, stubFetch, type Stub } from "./stub.ts";

const lease = { id: "app~7", namespace: "app", ttlSeconds: 10, expiresAt: "2030-01-01T00:00:00Z" };

function store(lockStatus: number): Stub {
  return stubFetch((req) => {
    const { pathname } = new URL(req.url);
    if (req.method === "POST" && pathname === "/v1/leases") return json(lease, 201);
    if (req.method === "POST" && pathname === "/v1/locks/app/migrations") {
      if (lockStatus === 409) return problem(409, { retryAfter: 1 });
      return json({ lock: "app/migrations", lease: lease.id, fencingToken: 42 });
    }
    if (req.method === "DELETE" && pathname === "/v1/leases/app~7")
      return new Response(null, { status: 204 });
    return problem(500);
  });
}

function testIo(stub: Stub, exitCode: number) {
  const runs: { command: string; args: string[]; env: Record<string, string> }[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: { write: () => {} },
    stderr: { write: (c) => err.push(String(c)) },
    readStdin: async () => new Uint8Array(),
    readFile: async () => new Uint8Array(),
    writeFile: async () => {},
    env: { EDGECFG_URL: "http://store.test", EDGECFG_TOKEN: "tok" },
    fetch: stub.fetch,
    run: async (command, args, { env }) => {
      runs.push({ command, args, env });
      return exitCode;
    },
  };
  return { io, runs, stderr: () => err.join("") };
}

describe("edgecfg lock", () => {
  it("runs the command with the fencing token, releases, and exits with its code", async () => {
    const stub = store(200);
    const t = testIo(stub, 7);
    const code = await run(["lock", "app/migrations", "--", "npm", "run", "migrate"], t.io);
    expect(code).toBe(7);
    expect(t.runs).toEqual([
      {
        command: "npm",
        args: ["run", "migrate"],
        env: { EDGECFG_FENCING_TOKEN: "42", EDGECFG_FENCE: "app/migrations=42" },
      },
    ]);
    const calls = stub.requests.map((r) => `${r.method} ${new URL(r.url).pathname}`);
    expect(calls).toEqual([
      "POST /v1/leases",
      "POST /v1/locks/app/migrations",
      "DELETE /v1/leases/app~7",
    ]);
    expect(await run(["lock", "app/migrations", "--", "true"], testIo(store(200), 0).io)).toBe(0);
  });

  it("exits 3 without running anything when the lock stays held; 2 for a bad name", async () => {
    const t = testIo(store(409), 0);
    expect(await run(["lock", "app/migrations", "--wait", "0", "--", "true"], t.io)).toBe(3);
    expect(t.runs).toEqual([]);
    expect(await run(["lock", "migrations", "--", "true"], t.io)).toBe(2);
  });
});

describe("edgecfg kv put --lease", () => {
  it("attaches the key with X-Edgecfg-Lease; a lease of another namespace exits 2 unsent", async () => {
    const stub = stubFetch(() => json(entry("app/instances/a", 5), 201, { etag: '"r5"' }));
    const t = testIo(stub, 0);
    expect(await run(["kv", "put", "app/instances/a", "up", "--lease", "app~7"], t.io)).toBe(0);
    const sent = stub.requests[0]!;
    expect([sent.method, new URL(sent.url).pathname]).toEqual(["PUT", "/v1/kv/app/instances/a"]);
    expect(sent.headers.get("x-edgecfg-lease")).toBe("app~7");
    expect(await sent.text()).toBe("up");
    for (const lease of ["other~3", "7"]) {
      const refused = testIo(stub, 0);
      const args = ["kv", "put", "app/instances/a", "up", "--lease", lease];
      expect(await run(args, refused.io)).toBe(2);
      expect(refused.stderr()).toContain("lease grant");
    }
    expect(stub.requests).toHaveLength(1);
  });
});
