// Limits of the HTTP layer, named once with their unit last. Store limits (value size, key size,
// list page size, txn size) come from src/store so that the API and the state machine agree.
import { routerLimits } from "../router/index.ts";
import { storeLimits } from "../store/index.ts";

export const apiLimits = {
  /**
   * A request URL, as Cloudflare's edge allows (16 KiB); beyond it 414. Keys are ≤ 512 bytes, so
   * only junk gets near; the local runtime's own limit (~64 KiB+) answers text/plain instead.
   */
  urlBytesMax: 16 * 1024,
  /** A request header the API reads (If-Match, If-None-Match, Content-Type, …); beyond it 431. */
  headerBytesMax: 8 * 1024,
  /** A PUT body: one value. */
  valueBytesMax: storeLimits.valueBytesMax,
  /** A txn body: values travel base64- or JSON-encoded, so allow for the encoding. */
  txnBodyBytesMax: 2 * storeLimits.valueBytesMax,
  /** The sum of the values one txn writes (decoded). */
  txnValueBytesMax: storeLimits.valueBytesMax,
  /**
   * A namespace apply body: its values inline (JSON) or base64, like a txn's. The values it
   * writes (decoded) are bounded like a txn's, so one apply fits one Raft entry (2 MiB ceiling).
   */
  applyBodyBytesMax: 2 * storeLimits.valueBytesMax,
  applyValueBytesMax: storeLimits.valueBytesMax,
  /** Entries of one apply: a whole namespace (1,000 entries are the benchmarked case). */
  applyEntriesMax: storeLimits.applyEntriesMax,
  /** Other JSON bodies (token minting, settings). */
  smallBodyBytesMax: 64 * 1024,
  /**
   * A settings body: the namespace's schemas (storeLimits.namespaceSchemaBytesMax of compact
   * JSON) sent pretty-printed take up to about twice that.
   */
  settingsBodyBytesMax: 2 * storeLimits.namespaceSchemaBytesMax,
  /** `?wait=` of long polls. */
  waitMsMax: routerLimits.waitMsMax,
  /** A watch stream sends a `progress` event at least this often while idle. */
  watchProgressMs: 15_000,
  /** Events read per round trip of a watch stream. */
  watchBatchEventsMax: 256,
  /** A watch stream ends after this long; clients resume with Last-Event-ID. */
  watchStreamMsMax: 30 * 60_000,
  listLimitMax: storeLimits.listLimitMax,
  idempotencyKeyBytesMax: storeLimits.idempotencyKeyBytesMax,
  /** Expiry of a minted token, at most (about 10 years). */
  tokenTtlSecondsMax: 10 * 365 * 24 * 3600,
} as const;

export { storeLimits };
