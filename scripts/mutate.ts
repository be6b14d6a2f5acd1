// `npm run mutate -- <scope> [stryker options]`: StrykerJS over one scope (stryker.config.mjs,
// tools/stryker/scopes.ts). <scope> is a name (raft, store, replica, router, api), its folder
// (src/replica) or one file of it (src/replica/persist.ts: only that file is mutated). Anything
// after it goes to `stryker run`, e.g. `--mutate src/raft/log.ts:40-80` or `--concurrency 1`.
// `--unit-only` leaves the workers tests out (minutes instead of hours; a lower bound).
// Reports: reports/mutation/<scope>/index.html and mutation.json; a rerun is incremental.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { scopes } from "../tools/stryker/scopes.ts";

const root = `${dirname(import.meta.dirname)}/`;
const unitOnly = process.argv.includes("--unit-only");
const [target, ...rest] = process.argv.slice(2).filter((a) => a !== "--unit-only");

function usage(message: string): never {
  console.error(
    `${message}\nusage: npm run mutate -- <${Object.keys(scopes).join("|")}|src/<folder>|src/<folder>/<file>.ts> [--unit-only] [stryker options]`,
  );
  process.exit(2);
}

/** The scope a name, folder or file belongs to, and the file itself when one was given. */
function resolveScope(arg: string): { name: string; file?: string } {
  if (arg in scopes) return { name: arg };
  const path = arg.replace(/^\.\//, "").replace(/\/$/, "");
  const name = path.match(/^src\/(raft|store|replica|router|api)(\/|$)/)?.[1];
  if (!name) usage(`no mutation scope for ${JSON.stringify(arg)}`);
  if (!path.endsWith(".ts")) return { name };
  if (!existsSync(`${root}/${path}`)) usage(`${path} does not exist`);
  return { name, file: path };
}

if (!target || target.startsWith("-")) usage("name a scope first");
const scope = resolveScope(target);
const hook = `--import=${root}tools/stryker/typescript-5.mjs`;
const args = ["node_modules/@stryker-mutator/core/bin/stryker.js", "run", "stryker.config.mjs"];
if (scope.file && !rest.includes("--mutate") && !rest.includes("-m"))
  args.push("--mutate", scope.file);
const run = spawnSync(process.execPath, [...args, ...rest], {
  cwd: root,
  stdio: "inherit",
  env: {
    ...process.env,
    EDGECFG_MUTATE_SCOPE: scope.name,
    EDGECFG_MUTATE_UNIT_ONLY: unitOnly ? "1" : "0",
    NODE_OPTIONS: [process.env.NODE_OPTIONS, hook].filter(Boolean).join(" "),
  },
});
process.exit(run.status ?? 1);
