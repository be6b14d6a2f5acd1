// A short `npm run chaos` (CI's; `npm run chaos` runs two minutes by default): a fresh store, 8
// clients, the nemesis of the fault API and cluster operations, then the per-key history check.
import { execFile } from "node:child_process";
import { expect, it } from "vitest";

it("a 20-second chaos run finds its history linearizable", { timeout: 120_000 }, async () => {
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
  expect(stdout).toMatch(/linearizable: yes/);
  expect(stdout).toMatch(/faults injected: [1-9]/);
  expect(stdout).toMatch(
    /unavailability \(fault to the next acknowledged write begun after it\): p50 \d+ ms/,
  );
});
