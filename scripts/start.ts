// `npm start`: serves the Worker locally through Miniflare's own API (workerd), on the Worker's own
// socket, with state kept under .wrangler/state across restarts. `wrangler dev` serves the same
// Worker too (`npm run dev`), but its proxy worker and inspector cap it near 500 requests/s here;
// this serves ~19,000 /healthz requests/s at 64 clients (npm run bench).
//
//   PORT=8787 HOST=127.0.0.1 ADMIN_TOKEN=… STATE_DIR=.wrangler/state npm start
//   npm start -- --var READ_LEASE_MS=0 --var API_DOCS=off    (the Worker's [vars], as wrangler dev)
//   npm start --var READ_LEASE_MS=0                           (works too; npm warns about --var)
import { pendingConfigLine, startLocal } from "./local-server.ts";

/**
 * The Worker's vars from the command line, as `wrangler dev --var` takes them: `--var NAME=VALUE`
 * (repeatable) after `npm start --`. Without the `--`, npm keeps `--var` and passes `NAME=VALUE`
 * on as is (or, for `--var=NAME=VALUE`, as npm_config_var), so those forms work too.
 */
function varsOf(args: string[], npmVar: string | undefined): Record<string, string> {
  // Locally the interactive reference is on (deployments opt in: src/api/routes/docs.ts).
  const vars: Record<string, string> = { API_DOCS: "on" };
  const pairs = npmVar?.includes("=") ? [npmVar] : [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--var" && i + 1 < args.length) pairs.push(args[++i]!);
    else if (arg.startsWith("--var=")) pairs.push(arg.slice("--var=".length));
    else if (!arg.startsWith("-")) pairs.push(arg);
    else fail(`unknown argument ${JSON.stringify(arg)}; use --var NAME=VALUE`);
  }
  for (const pair of pairs) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!m) fail(`${JSON.stringify(pair)} is not NAME=VALUE; use --var NAME=VALUE`);
    vars[m[1]!] = m[2]!;
  }
  return vars;
}

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(2);
}

const port = Number(process.env.PORT ?? 8787);
const host = process.env.HOST ?? "127.0.0.1";
const vars = varsOf(process.argv.slice(2), process.env.npm_config_var);
if (process.env.ADMIN_TOKEN === "") {
  console.warn(
    "warning: ADMIN_TOKEN is set but empty, so every write will be refused (503); " +
      "unset it to use the development token, or set a token",
  );
}

/** A taken port is a one-line hint, not Miniflare's stack trace. */
function inUse(error: unknown): boolean {
  const text =
    error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : String(error);
  return /EADDRINUSE|address already in use/i.test(text);
}

let server: Awaited<ReturnType<typeof startLocal>>;
try {
  server = await startLocal({
    port,
    host,
    adminToken: process.env.ADMIN_TOKEN,
    stateDir: process.env.STATE_DIR,
    vars,
  });
} catch (error) {
  if (!inUse(error)) throw error;
  console.error(`npm start: port ${port} on ${host} is taken; set PORT, e.g. PORT=8788 npm start`);
  process.exit(1);
}
console.log(`edgecfg is serving on ${server.url}`);
console.log(`state: ${server.stateDir}`);
console.log(
  `API reference: ${server.url}docs  (the OpenAPI document: ${server.url}v1/openapi.json)`,
);
if (server.adminTokenIsDefault) {
  console.log(
    `admin token: ${server.adminToken}  (the development default; set ADMIN_TOKEN to replace it)`,
  );
}
console.log(
  `try: curl -H 'Authorization: Bearer ${server.adminToken}' -X PUT --data '{"hello":"world"}' \\`,
);
console.log(`       -H 'Content-Type: application/json' ${server.url}v1/kv/demo/greeting`);
const pending = await pendingConfigLine(server.url, server.adminToken);
if (pending !== null) console.log(pending);

const stop = async () => {
  await server.dispose();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
