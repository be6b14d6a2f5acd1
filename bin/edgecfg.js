#!/usr/bin/env node
// The `edgecfg` command. Runs the CLI compiled ahead to dist/ (`npm run build`, also run by
// `prepare` on install), so it works on Node >= 20 and from node_modules, where Node refuses to
// strip types from .ts files.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write(
    "edgecfg: the CLI is not built yet (dist/cli/main.js is missing); run `npm run build` first\n",
  );
  process.exit(1);
}
const { main } = await import(compiled.href);
await main();
