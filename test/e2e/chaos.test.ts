// A short `npm run chaos` (CI's; `npm run chaos` runs two minutes by default): a fresh store, 8
// clients of every operation kind and 2 watches, the nemesis of the fault API and cluster
// operations, then the history check (scripts/chaos/check.ts).
import { execFile } from "node:child_process";
import { expect, it } from "vitest";

it("a 20-second chaos run finds its history linearizable, with no write lost", {
  timeout: 120_000,
}, async () => {
  const { code, stdout, stderr } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    const child = execFile(
      process.execPath,
      ["scripts/chaos.ts", "--minutes", "0.33", "--seed", "20261202"],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("close", (exit) => resolve({ code: exit, stdout, stderr }));
  });
  expect(code, stderr.slice(-2000)).toBe(0);
  expect(stdout).toMatch(/linearizable: yes; violations: 0; lost acknowledged writes: 0/);
  expect(stdout).toMatch(/\| txn transfer \| [1-9]/);
  expect(stdout).toMatch(/watches: 2, \d+ connections .*, [1-9]\d* events delivered/);
  expect(stdout).toMatch(/faults injected: [1-9]/);
  expect(stdout).toMatch(
    /unavailability \(fault to the next acknowledged write begun after it\): p50 \d+ ms/,
  );
});
