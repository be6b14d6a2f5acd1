// The core's assertions are the ones every layer shares (src/base).
export { AssertionError, assert, unreachable } from "../base/index.ts";
