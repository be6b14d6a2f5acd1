// `npm run build:worker` (and `prepare`): the edgecfg Worker that edgecfg/miniflare starts beside
// a user's own Worker, prebuilt so their tests bundle nothing: src/testing/worker.ts bundled by
// wrangler with the settings of wrangler.toml (bundleWorker, as `npm start` bundles), written to
// dist/worker/edgecfg.js, and the Durable Objects, vars and compatibility settings wrangler.toml
// declares to dist/worker/edgecfg.json, which the helper reads (users need no wrangler.toml).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { bundleWorker } from "./local-server.ts";

/** wrangler.toml with the test Worker as its main; everything else as deployed. */
function testConfig(projectDir: string, dir: string): string {
  const toml = readFileSync(join(projectDir, "wrangler.toml"), "utf8");
  const main = /^main = "src\/index\.ts"$/m;
  if (!main.test(toml)) throw new Error('wrangler.toml no longer says main = "src/index.ts"');
  const path = join(dir, "wrangler.toml");
  const worker = JSON.stringify(join(projectDir, "src/testing/worker.ts"));
  writeFileSync(path, toml.replace(main, `main = ${worker}`));
  return path;
}

export function buildWorker(projectDir = process.cwd()): string {
  const root = resolve(projectDir);
  const scratch = mkdtempSync(join(tmpdir(), "edgecfg-test-worker-"));
  try {
    const config = testConfig(root, scratch);
    const bundle = bundleWorker(root, config);
    const out = join(root, "dist/worker");
    mkdirSync(out, { recursive: true });
    copyFileSync(bundle.main, join(out, "edgecfg.js"));
    rmSync(bundle.dir, { recursive: true, force: true });
    const o = unstable_getMiniflareWorkerOptions(config).workerOptions;
    const manifest = {
      compatibilityDate: o.compatibilityDate,
      compatibilityFlags: o.compatibilityFlags,
      durableObjects: o.durableObjects,
      bindings: o.bindings,
    };
    writeFileSync(join(out, "edgecfg.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    return out;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(`built ${buildWorker()}`);
