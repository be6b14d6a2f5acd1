// The public surface of src/store: the state machine, its command codec, key validation, limits.
export { Store, defaultStoreOptions } from "./store.ts";
export type {
  Leaving,
  NamespaceExportQuery,
  NamespaceExportResult,
  ServedNamespaces,
} from "./moves-export.ts";
export type { ServedNamespacesResult } from "./query.ts";
export type { StoreStats } from "./store.ts";
export type { LeaseRenewals } from "./leases.ts";
export { encodeCommand, decodeCommand } from "./codec.ts";
export {
  validateKey,
  validateNamespace,
  validateName,
  validatePrefix,
  validateContentType,
  systemNamespace,
  namespaceOf,
  isJsonMediaType,
} from "./keys.ts";
export { storeLimits } from "./limits.ts";
export { repeatSafe, requestFingerprint } from "./idempotency.ts";
export { AssertionError } from "./assert.ts";
export type {
  Query,
  QueryResult,
  Queryable,
  TokenResult,
  TokensResult,
  NamespaceSettingsResult,
  NamespaceSchemasResult,
  ClusterResult,
  LeaseResult,
  LockResult,
} from "./query.ts";
export { lockOfWaitKey, lockTurnKey, lockWaitKey } from "./query.ts";
export type * from "./types.ts";
export type { DryRunCommand, DryRunResult, DiffItem, DiffValue } from "./dry-run.ts";
