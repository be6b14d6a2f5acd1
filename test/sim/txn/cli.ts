// Entry point of `npm run sim:txn`; see cli-main.ts (the hooks load first, as for `npm run sim`).
import "../ts-hooks.ts";

await import("./cli-main.ts");
