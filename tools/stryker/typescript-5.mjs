// Loaded with `node --import` by `npm run mutate` (scripts/mutate.ts), in Stryker and in every
// child process it forks. The project compiles with TypeScript 7 (the native port), which ships
// no compiler API; @stryker-mutator/typescript-checker needs one (createProgram, the solution
// builder). So the checker, and only the checker, gets TypeScript 5.9 (the `typescript-5`
// alias in devDependencies), which checks this project clean. Everything else keeps TS 7.
import { register } from "node:module";

register("./typescript-5-hooks.mjs", import.meta.url);
