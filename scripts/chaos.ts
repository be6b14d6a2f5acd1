// `npm run chaos` (-- --minutes N, default 2; --seed S; --clients C; --keys K): starts the store as
// `npm start` does in a fresh state folder, runs C clients of linearizable gets, puts and
// compare-and-set over HTTP while a nemesis cycles the local fault API and cluster operations,
// heals, and checks the history per key for linearizability (an unknown outcome may or may not
// have happened). The history (JSON lines) and a summary go to chaos/results/. Exits 1 on a
// violation, printing the key, the operations that cannot be ordered, and the seed to replay.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runClient } from "./chaos/clients.ts";
import { checkHistory, History } from "./chaos/history.ts";
import { runNemesis } from "./chaos/nemesis.ts";
import { reportMarkdown, timelineSvg } from "./chaos/report.ts";
import { startLocal } from "./local-server.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i < 0 ? undefined : process.argv[i + 1];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} takes a positive number, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

/** mulberry32: a seeded source, so a failing run's choices can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const minutes = arg("minutes", 2);
const seed = arg("seed", Math.floor(Math.random() * 1e9) + 1);
const clients = arg("clients", 8);
const keys = arg("keys", 8);
const random = seeded(seed);
const stateDir = mkdtempSync(join(tmpdir(), "edgecfg-chaos-"));
const token = "chaos-token";
const server = await startLocal({ port: 0, stateDir, adminToken: token });
const url = server.url.toString().replace(/\/$/, "");
const history = new History();
const endAt = Date.now() + minutes * 60_000;
const until = () => Date.now() >= endAt;
console.log(`chaos: seed ${seed}, ${minutes} min, ${clients} clients on ${keys} keys, ${url}`);
try {
  // The clients' shard: the one their keys' answers name.
  const seedRes = await fetch(`${url}/v1/kv/chaos/k0`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${token}` },
    body: "seed",
  });
  const shard = Number(/^s(\d+)\./.exec(seedRes.headers.get("X-Edgecfg-Revision") ?? "s0.")![1]);
  history.record({
    client: -1,
    input: { kind: "put", key: "chaos/k0", value: "seed" },
    output: { kind: "put" },
    invokeMs: 0,
    completeMs: history.now(),
  });
  const loops = Array.from({ length: clients }, (_, c) =>
    runClient(c, { url, token, keys, timeoutMs: 5_000, random }, history, until),
  );
  const nemesis = { url, token, random, everyMs: 3_000, log: console.log };
  const faults = await runNemesis(nemesis, until, shard, () => history.now());
  await Promise.all(loops);
  // Heal, then read every key once more: an acknowledged write lost would show here.
  await fetch(`${url}/v1/dev/faults`, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${token}` },
  });
  const healedUntil = Date.now() + 5_000;
  await runClient(
    clients,
    { url, token, keys, timeoutMs: 5_000, random },
    history,
    () => Date.now() >= healedUntil,
  );
  const result = checkHistory(history.ops);
  const unknown = history.ops.filter((o) => o.completeMs === null).length;
  const summary = reportMarkdown(
    [
      `# chaos run, seed ${seed}`,
      "",
      `${minutes} min, ${clients} clients, ${keys} keys: ${history.ops.length} operations ` +
        `(${unknown} with an unknown outcome); linearizable: ` +
        (result.ok ? "yes" : `NO (key ${result.partition})`),
    ],
    history.ops,
    faults,
  );
  const dir = join("chaos", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `history-${seed}.jsonl`), history.lines());
  writeFileSync(join(dir, "latest.md"), summary);
  writeFileSync(join(dir, "timeline.svg"), timelineSvg(history.ops, faults));
  console.log(summary);
  if (!result.ok) {
    console.error(
      `violation on ${result.partition}:\n${result.explanation}\nreplay: npm run chaos -- --seed ${seed}`,
    );
    process.exitCode = 1;
  }
} finally {
  await server.dispose();
  rmSync(stateDir, { recursive: true, force: true });
}
