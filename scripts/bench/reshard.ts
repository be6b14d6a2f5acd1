// `npm run bench:reshard`: the reshard cell of `npm run bench` alone (reshard-cell.ts), at any
// size: NAMESPACES (default 1,000) × KEYS (10) keys, CLIENTS (64) CAS clients, 4 -> TO_SHARDS
// (8) shards, BEFORE_MS (5,000) of load first. Prints one JSON line; exits 1 when the reshard
// failed or a write was lost or applied twice.
import { runReshardCell } from "./reshard-cell.ts";

const result = await runReshardCell({
  clients: Number(process.env.CLIENTS ?? 64),
  namespaces: Number(process.env.NAMESPACES ?? 1_000),
  keysPerNamespace: Number(process.env.KEYS ?? 10),
  toShards: Number(process.env.TO_SHARDS ?? 8),
  beforeMs: Number(process.env.BEFORE_MS ?? 5_000),
});
console.log(JSON.stringify(result));
const broken = result.state !== "done" || result.lost > 0 || result.duplicated > 0;
process.exit(broken ? 1 : 0);
