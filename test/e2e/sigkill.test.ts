// A SIGKILL of the whole local server (node and its workerd, the process group) while 16 clients
// write loses no acknowledged write: after a restart on the same state folder every key holds at
// least the last value it was acknowledged at (a write in flight at the kill may or may not be).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";

const stateDir = mkdtempSync(join(tmpdir(), "edgecfg-sigkill-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
const token = "sigkill-token";
const auth = { Authorization: `Bearer ${token}` };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `npm start` as a process group of its own (workerd is a child of it), serving on `port`. */
async function start(port: number) {
  const child = spawn(process.execPath, ["scripts/start.ts"], {
    env: { ...process.env, PORT: String(port), STATE_DIR: stateDir, ADMIN_TOKEN: token },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  for (let i = 0; i < 600 && !out.includes("serving on"); i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(out).toContain("serving on");
  return { kill: (signal: NodeJS.Signals) => process.kill(-child.pid!, signal), exited };
}

it("a SIGKILL of the server during writes loses no acknowledged write", {
  timeout: 120_000,
}, async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const first = await start(port);
  const acked = new Map<string, number>();
  let killed = false;
  const writer = async (w: number) => {
    const key = `sigkill/w${w}`;
    for (let i = 1; !killed; i++) {
      try {
        const res = await fetch(`${url}/v1/kv/${key}`, {
          method: "PUT",
          headers: { ...auth, "Content-Type": "application/json" },
          body: String(i),
        });
        await res.arrayBuffer();
        if (res.status === 200 || res.status === 201) acked.set(key, i);
      } catch {
        return; // the server is gone
      }
    }
  };
  const writers = Array.from({ length: 16 }, (_, w) => writer(w));
  while ([...acked.values()].reduce((a, b) => a + b, 0) < 400)
    await new Promise((r) => setTimeout(r, 20));
  first.kill("SIGKILL");
  killed = true;
  await Promise.all(writers);
  await first.exited;
  const second = await start(port);
  try {
    for (const [key, value] of acked) {
      const res = await fetch(`${url}/v1/kv/${key}`, { headers: auth });
      expect(res.status, key).toBe(200);
      expect(Number(await res.text()), key).toBeGreaterThanOrEqual(value);
    }
    expect(acked.size).toBe(16);
  } finally {
    second.kill("SIGTERM");
    await second.exited;
  }
});
