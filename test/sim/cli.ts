// Entry point of `npm run sim`; see cli-main.ts. The hooks must be registered before any other
// module of the simulator (or the core) is loaded, hence the dynamic import.
import "./ts-hooks.ts";

await import("./cli-main.ts");
