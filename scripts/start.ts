// `npm start`: serves the Worker locally through Miniflare's own API (workerd), on the Worker's own
// socket, with state kept under .wrangler/state across restarts. `wrangler dev` serves the same
// Worker too (`npm run dev`), but its proxy worker and inspector cap it near 500 requests/s here;
// this serves ~19,000 /healthz requests/s at 64 clients (npm run bench).
//
//   PORT=8787 HOST=127.0.0.1 ADMIN_TOKEN=… STATE_DIR=.wrangler/state npm start
import { pendingConfigLine, startLocal } from "./local-server.ts";

const server = await startLocal({
  port: Number(process.env.PORT ?? 8787),
  host: process.env.HOST ?? "127.0.0.1",
  adminToken: process.env.ADMIN_TOKEN,
  stateDir: process.env.STATE_DIR,
});
console.log(`edgecfg is serving on ${server.url}`);
console.log(`state: ${server.stateDir}`);
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
