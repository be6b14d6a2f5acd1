// `npm run sim:txn -- --seeds 20000 [--from 1] [--bug NAME] [--keyed]` (NAME: a key of client.ts
// Bugs; --keyed: keyed requests retried, and the exactly-once checks):
// sweeps seeds of the cross-shard txn simulator (run.ts) and prints every failing seed with the
// command that replays it, then the totals. Exit code 1 when a seed failed.
import { parseArgs } from "node:util";
import type { Bugs } from "./client.ts";
import { runTxnSeed } from "./run.ts";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "1000" },
    from: { type: "string", default: "1" },
    seed: { type: "string" },
    bug: { type: "string" },
    keyed: { type: "boolean", default: false },
  },
});
const bugs: Bugs = values.bug === undefined ? {} : { [values.bug]: true };
const from = Number(values.seed ?? values.from);
const count = values.seed === undefined ? Number(values.seeds) : 1;
const totals = {
  txns: 0,
  commits: 0,
  aborts: 0,
  singleShard: 0,
  audits: 0,
  groupCrashes: 0,
  keyed: 0,
  retries: 0,
  replaysGone: 0,
  keyedApplied: 0,
  keysReused: 0,
};
const replays = { deduplicated: 0, keyRecord: 0, tombstones: 0, txnId: 0 };
let failed = 0;
const started = Date.now();
for (let seed = from; seed < from + count; seed++) {
  try {
    const r = runTxnSeed({ seed, bugs, keyedRetries: values.keyed });
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r[k];
    for (const k of Object.keys(replays) as (keyof typeof replays)[]) replays[k] += r.replays[k];
  } catch (e) {
    failed += 1;
    const bug = values.bug === undefined ? "" : ` --bug ${values.bug}`;
    console.log(`seed ${seed}: ${e instanceof Error ? e.message : String(e)}`);
    const keyed = values.keyed ? " --keyed" : "";
    console.log(`  replay: npm run sim:txn -- --seed ${seed}${bug}${keyed}`);
  }
}
const seconds = (Date.now() - started) / 1000;
console.log(
  `seeds ${from}..${from + count - 1}: ${count - failed} passed, ${failed} failed in ${seconds.toFixed(1)} s; ` +
    `${totals.txns} cross-shard txns (${totals.commits} committed, ${totals.aborts} not), ` +
    `${totals.singleShard} single-shard txns, ${totals.audits} audits, ` +
    `${totals.groupCrashes} group crashes; ` +
    `${totals.keyed} keyed requests (${totals.keyedApplied} applied), ${totals.retries} retries, ` +
    `replayed answers: ${replays.keyRecord} from the key record's answer, ${replays.tombstones} ` +
    `from the first's tombstones, ${replays.deduplicated} single-shard, ${replays.txnId} by ` +
    `txn id (the old protocol); ${totals.replaysGone} replays found a tombstone gone (unknown); ` +
    `${totals.keysReused} refusals of a key recorded for another request`,
);
process.exitCode = failed > 0 ? 1 : 0;
