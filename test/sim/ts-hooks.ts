// `npm run sim` runs TypeScript through Node's type stripping, which rejects syntax that needs a
// transform (parameter properties, enums). The core may use such syntax (it is bundled by
// wrangler, not run by Node directly), so the CLI transforms .ts files itself. Import this
// first, then load everything else with a dynamic import().
import { registerHooks, stripTypeScriptTypes } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// stripTypeScriptTypes is experimental in Node 24 and says so on every run; the CLI's output is
// its report, so keep that one warning out of it.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === "string" ? warning : warning.message;
  if (text.includes("stripTypeScriptTypes")) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith("file:") && url.endsWith(".ts") && !url.includes("/node_modules/")) {
      const code = readFileSync(fileURLToPath(url), "utf8");
      return {
        format: "module",
        source: stripTypeScriptTypes(code, { mode: "transform", sourceUrl: url }),
        shortCircuit: true,
      };
    }
    return nextLoad(url, context);
  },
});
