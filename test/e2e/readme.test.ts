// The README's HTTP examples, run in order as pasted (bash + curl) against a fresh store served as
// `npm start` serves it: each answers the status the README implies, and the text values are
// stored with a text Content-Type. Only the host, the token and two waits are adapted.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocal, type LocalServer } from "../../scripts/local-server.ts";

const dir = mkdtempSync(join(tmpdir(), "edgecfg-readme-"));
let server: LocalServer;
beforeAll(async () => {
  server = await startLocal({ port: 0, stateDir: join(dir, "state") });
}, 120_000);
afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** The ```sh blocks of the README section under `heading`. */
function shellBlocks(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

it("the Quick start and The HTTP API examples run as pasted", () => {
  const readme = readFileSync("README.md", "utf8");
  const url = server.url.toString().replace(/\/$/, "");
  const script = [
    ...shellBlocks(readme, "Quick start").slice(1),
    ...shellBlocks(readme, "The HTTP API"),
  ]
    .join("\n")
    .replaceAll("http://127.0.0.1:8787", url)
    .replaceAll("wait=30s", "wait=1s");
  const log = join(dir, "statuses");
  // Every curl prints its status to the log; streams (watch) end after 2 s.
  const wrapper = `curl() { command curl -sS -o /dev/null -w '%{http_code} %{content_type}\\n' --max-time 2 "$@" >> '${log}'; true; }\n`;
  writeFileSync(join(dir, "readme.sh"), wrapper + script.replace(/^npm (install|test).*$/gm, ""));
  execFileSync("bash", [join(dir, "readme.sh")], { stdio: "inherit" });
  const statuses = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(" ")[0]);
  expect(statuses).toEqual([
    "201", // PUT myapp/flags
    "200", // GET it
    "200", // compare-and-set with "r1"
    "201", // create only: myapp/theme
    "304", // conditional read (long poll) with "r2"
    "200", // ?meta
    "200", // ?revision=1
    "200", // history
    "204", // DELETE theme with its If-Match
    "200", // listing
    "200", // bundle
    "200", // txn
    "200", // watch
    "201", // Idempotency-Key write
    "200", // stale read
    "200", // read with X-Edgecfg-Min-Revision
    "201", // mint a token
    "200", // public-read settings
    "200", // cluster
    "200", // healthz
  ]);
  const release = execFileSync("curl", [
    "-sS",
    "-D",
    "-",
    "-H",
    "Authorization: Bearer dev-admin-token",
    `${url}/v1/kv/myapp/release`,
  ]).toString();
  expect(release).toMatch(/content-type: text\/plain/i);
}, 120_000);
