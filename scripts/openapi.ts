// `npm run contract`: writes the OpenAPI document exactly as GET /v1/openapi.json serves it (for
// the origin given, default the one `npm start` serves on) to dist/openapi.json, for
// `redocly lint` and other tools. No server needed: the document is built from the route schemas.
//
//   node --experimental-transform-types scripts/openapi.ts [origin] [path]
import { mkdirSync, writeFileSync } from "node:fs";
import { registerHooks } from "node:module";
import { dirname } from "node:path";

// The API imports the router layer through its index, which reaches the Durable Object classes and
// so "cloudflare:workers"; building the document runs none of them, so a stand-in module will do.
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier !== "cloudflare:workers") return nextResolve(specifier, context);
    const stub = "export class DurableObject {} export class WorkerEntrypoint {}";
    return { url: `data:text/javascript,${encodeURIComponent(stub)}`, shortCircuit: true };
  },
});
const { createApp, openApiDocument } = await import("../src/api/app.ts");

const origin = process.argv[2] ?? "http://127.0.0.1:8787";
const path = process.argv[3] ?? "dist/openapi.json";
const app = createApp({
  router: () => {
    throw new Error("the document needs no router");
  },
});
mkdirSync(dirname(path), { recursive: true });
writeFileSync(path, `${JSON.stringify(openApiDocument(app, origin), null, 2)}\n`);
console.log(`wrote ${path}`);
