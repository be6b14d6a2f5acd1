// The public surface of src/api: the Hono app and the bindings it reads. The Worker entry
// (src/index.ts) imports only this.
export { createApp, type AppOptions } from "./app.ts";
export type { ApiBindings } from "./context.ts";
export { edgecfgEntrypoint, type EntrypointOptions } from "./rpc-entrypoint.ts";
