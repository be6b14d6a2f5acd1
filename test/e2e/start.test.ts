// `npm start` itself (scripts/start.ts): the Worker's vars from the command line, and the newcomer
// mistakes it answers in one line (a taken port, an empty ADMIN_TOKEN, an unknown argument).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const stateDir = mkdtempSync(join(tmpdir(), "edgecfg-start-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ["scripts/start.ts", ...args], {
    env: { ...process.env, STATE_DIR: stateDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function freePort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("npm start", () => {
  it("refuses an unknown argument with exit 2, naming --var NAME=VALUE", async () => {
    for (const args of [["--port", "1"], ["PORT"]]) {
      const run = start(args, {});
      expect(await run.exited).toBe(2);
      expect(run.err()).toContain("--var NAME=VALUE");
    }
  });

  it("a taken port is one line saying to set PORT; an empty ADMIN_TOKEN a warning", async () => {
    const taken = await freePort();
    try {
      const run = start([], { PORT: String(taken.port), ADMIN_TOKEN: "" });
      expect(await run.exited).toBe(1);
      const lines = run.err().trim().split("\n");
      expect(lines[0]).toContain("ADMIN_TOKEN is set but empty");
      expect(lines.at(-1)).toContain(`port ${taken.port}`);
      expect(lines.at(-1)).toContain("set PORT");
      expect(lines.length).toBe(2);
    } finally {
      await taken.close();
    }
  });

  it("passes --var NAME=VALUE to the Worker (API_DOCS off: /docs is 404; on by default)", async () => {
    const probe = await freePort();
    await probe.close();
    // As `npm start -- --var A=1 --var=B=2 C=3` passes them (`npm start --var A=1` passes "A=1").
    const run = start(["--var", "READ_LEASE_MS=0", "--var=X=1", "API_DOCS=off"], {
      PORT: String(probe.port),
    });
    try {
      for (let i = 0; i < 600 && !run.out().includes("serving on"); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(run.out()).toContain("serving on");
      const url = `http://127.0.0.1:${probe.port}`;
      const docs = await fetch(`${url}/docs`);
      expect(docs.status).toBe(404);
      expect(((await docs.json()) as { detail: string }).detail).toContain("API_DOCS");
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
    }
  });
});
