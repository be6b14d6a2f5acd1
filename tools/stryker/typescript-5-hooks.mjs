// Module resolution hook registered by typescript-5.mjs: `import ts from "typescript"` inside
// @stryker-mutator (the checker; core rewrites tsconfig.json with it) resolves to the `typescript-5` package instead.
const STRYKER = "/node_modules/@stryker-mutator/";

export async function resolve(specifier, context, nextResolve) {
  if (specifier === "typescript" && context.parentURL?.includes(STRYKER)) {
    return nextResolve("typescript-5", context);
  }
  return nextResolve(specifier, context);
}
