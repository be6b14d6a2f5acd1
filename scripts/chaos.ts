// `npm run chaos` (-- --minutes N, default 2; --seed S; --clients C; --keys K; --watches W):
// starts the store as `npm start` does in a fresh state folder, runs C clients over HTTP (reads
// linearizable, stale and min-revision; puts unconditional and idempotent; CAS; deletes; txns
// moving balance between accounts, and snapshots of them) and W watches of the namespace, while
// a nemesis cycles the local fault API and cluster operations; heals, lets the watches catch up,
// and checks the history (scripts/chaos/check.ts): linearizability against the revisions the
// store states (an unknown outcome may or may not have happened), no acknowledged write lost,
// stale and min-revision reads never older than they state, the accounts' sum, every watch
// exactly once and in order. The history (JSON lines), latest.md and timeline.svg go to
// chaos/results/. Exits 1 on a violation, printing the operations and the seed to replay.
// `--check FILE` checks a history file again without a run.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runClient } from "./chaos/clients.ts";
import { checkHistory, type Invariant, type Verdict } from "./chaos/check.ts";
import { History, parseLines, type Recorded } from "./chaos/history.ts";
import { runNemesis } from "./chaos/nemesis.ts";
import { type FaultEvent, reportMarkdown, timelineSvg } from "./chaos/report.ts";
import { runWatch, watchedUpTo } from "./chaos/watchers.ts";
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
const watches = arg("watches", 2);
const accounts = ["chaos/acct0", "chaos/acct1", "chaos/acct2", "chaos/acct3"];
const invariant: Invariant = { accounts, total: 100 * accounts.length };

function judge(ops: readonly Recorded[], logs: History["watches"]): Verdict {
  const t0 = performance.now();
  const verdict = checkHistory(ops, logs, invariant);
  console.log(
    `checked ${ops.length} operations, ${verdict.revisions} revisions, ${logs.length} watches ` +
      `in ${Math.round(performance.now() - t0)} ms`,
  );
  return verdict;
}

function printViolations(verdict: Verdict, replay: boolean) {
  if (verdict.ok) return;
  console.error(`${verdict.violations.length} violation(s) (first ones):`);
  for (const line of verdict.violations) console.error(line);
  if (replay) console.error(`replay: npm run chaos -- --seed ${seed} --minutes ${minutes}`);
  process.exitCode = 1;
}

const checkFile = process.argv.indexOf("--check");
if (checkFile >= 0) {
  const file = process.argv[checkFile + 1]!;
  const { ops, watches: logs, faults } = parseLines<FaultEvent>(readFileSync(file, "utf8"));
  const verdict = judge(ops, logs);
  console.log(verdict.ok ? "no violations" : "violations found");
  // The timeline again, beside the file (a run's own report may have been overwritten since).
  writeFileSync(file.replace(/\.jsonl$/, "") + ".svg", timelineSvg(ops, faults));
  printViolations(verdict, false);
} else await run();

/** Writes `body` and records it as an operation of client -1 (the run's setup). */
async function setup(
  url: string,
  token: string,
  history: History,
  path: string,
  init: RequestInit,
  input: Recorded["input"],
) {
  const invokeMs = history.now();
  const res = await fetch(`${url}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  const m = /^s(\d+)\.(\d+)$/.exec(res.headers.get("X-Edgecfg-Revision") ?? "");
  if (!res.ok || m === null) throw new Error(`setup ${path} answered ${res.status}: ${text}`);
  history.record({
    client: -1,
    input,
    output: { kind: "wrote", revision: Number(m[2]) },
    invokeMs,
    completeMs: history.now(),
  });
  return Number(m[1]);
}

async function run() {
  const random = seeded(seed);
  const stateDir = mkdtempSync(join(tmpdir(), "edgecfg-chaos-"));
  const token = "chaos-token";
  const server = await startLocal({ port: 0, stateDir, adminToken: token });
  const url = server.url.toString().replace(/\/$/, "");
  const history = new History();
  const endAt = Date.now() + minutes * 60_000;
  // Set when the run ends, by its end or by a failure: every loop (watches too) stops then.
  let aborted = false;
  const until = () => aborted || Date.now() >= endAt;
  console.log(
    `chaos: seed ${seed}, ${minutes} min, ${clients} clients on ${keys} keys, ${watches} watches, ${url}`,
  );
  try {
    const shard = await setup(
      url,
      token,
      history,
      "/v1/kv/chaos/k0",
      { method: "PUT", body: "seed", headers: { "Content-Type": "text/plain" } },
      { kind: "put", key: "chaos/k0", value: "seed" },
    );
    const opening = JSON.stringify({ b: 100, op: "opening" });
    await setup(
      url,
      token,
      history,
      "/v1/txn",
      {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          success: accounts.map((key) => ({ type: "put", key, value: JSON.parse(opening) })),
        }),
      },
      {
        kind: "transfer",
        ifMatch: {},
        writes: Object.fromEntries(accounts.map((key) => [key, opening])),
      },
    );
    // A client that gets an answer the contract does not allow throws: the run stops, and the
    // error (with the answer) is the run's result.
    let failure: unknown;
    const fail = (error: unknown) => {
      failure ??= error;
      aborted = true;
    };
    let watching = true;
    const stopWatching = () => !watching || aborted;
    const watchers = Array.from({ length: watches }, (_, w) =>
      runWatch(w, { url, token, prefix: "chaos/", random }, history, stopWatching).catch(fail),
    );
    const options = { url, token, keys, accounts, timeoutMs: 5_000, random };
    const loops = Array.from({ length: clients }, (_, c) =>
      runClient(c, options, history, shard, until).catch(fail),
    );
    const nemesis = { url, token, random, everyMs: 3_000, log: console.log };
    const faults = await runNemesis(nemesis, until, shard, () => history.now());
    await Promise.all(loops);
    if (failure !== undefined) throw failure;
    // Heal, then keep one client going: an acknowledged write lost would show in its reads.
    await fetch(`${url}/v1/dev/faults`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${token}` },
    });
    const healedUntil = Date.now() + 5_000;
    await runClient(clients, options, history, shard, () => Date.now() >= healedUntil);
    const last = Math.max(...history.ops.map((op) => op.output?.revision ?? 0));
    const caughtUpBy = Date.now() + 20_000;
    while (watchedUpTo(history.watches) < last && Date.now() < caughtUpBy)
      await new Promise((r) => setTimeout(r, 200));
    watching = false;
    await Promise.all(watchers);
    const verdict = judge(history.ops, history.watches);
    const unknown = history.ops.filter((o) => o.completeMs === null).length;
    const summary = reportMarkdown(
      [
        `# chaos run, seed ${seed}`,
        "",
        `${minutes} min, ${clients} clients, ${keys} keys, ${accounts.length} accounts, ` +
          `${watches} watches: ${history.ops.length} operations (${unknown} with an unknown outcome), ` +
          `${verdict.revisions} revisions.`,
        "",
        `linearizable: ${verdict.ok ? "yes" : "NO"}; violations: ${verdict.ok ? 0 : verdict.violations.length}; ` +
          `lost acknowledged writes: ${verdict.lostWrites}; reads not verifiable: ${verdict.unverified}`,
      ],
      history.ops,
      history.watches,
      faults,
    );
    const dir = join("chaos", "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `history-${seed}.jsonl`), history.lines(faults));
    writeFileSync(join(dir, "latest.md"), summary);
    writeFileSync(join(dir, "timeline.svg"), timelineSvg(history.ops, faults));
    console.log(summary);
    printViolations(verdict, true);
  } finally {
    aborted = true;
    await server.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
