// edgecfg/client: the SDK. Web fetch only, so it runs in Node, Workers and browsers.
export { createClient, type ClientOptions, type EdgecfgClient } from "./client.ts";
export {
  EdgecfgError,
  ConflictError,
  NotFoundError,
  GoneError,
  UnauthorizedError,
  ForbiddenError,
  TooLargeError,
  ValidationError,
  UnavailableError,
  TimeoutError,
  type Problem,
} from "./errors.ts";
export type { FallbackSource, StaleInfo } from "./fallback.ts";
export type { CallOptions, FetchLike } from "./http.ts";
export type { GetOptions, BundleOptions } from "./reads.ts";
export type { AuditOptions, ListOptions } from "./list.ts";
export type { PutOptions, PutResult, WriteOptions, UpdateOptions, Updater } from "./writes.ts";
export type { WatchOptions } from "./watch.ts";
export type {
  ApplyRequest,
  DiffEntry,
  DryRun,
  NamespaceWriteResult,
  PublishOptions,
  RollbackRequest,
} from "./publish.ts";
export { LockBusyError } from "./coordination.ts";
export type { Lease, LeaseInfo, LockHold, WithLockOptions } from "./coordination.ts";
export type { Leadership } from "./election.ts";
export type { PutValue } from "./values.ts";
export type { DevFault, DevFaultsAnswer } from "./dev.ts";
// How values travel (content types, base64 in JSON documents): the CLI's too.
export {
  bundleEntryToBody,
  bodyToBundleEntry,
  bytesToBase64,
  decodeValue,
  isTextType,
  sameValue,
} from "./values.ts";
export type * from "./types.ts";
