// The lowest layer: what every other layer may use (and nothing else imports from above it).
export { AssertionError, assert, unreachable } from "./assert.ts";
export { fmix64, fnv1a64, fnv1a64Hex } from "./hash.ts";
export { jumpConsistentHash, namespaceKey, namespaceShard } from "./jump.ts";
