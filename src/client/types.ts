// The shapes of the HTTP API v1 as the SDK sees them (see http-api.md). The SDK keeps its own
// copy rather than importing server code: it ships to browsers and must not pull in the store.

/** Metadata of one live version of a key: the body of `?meta`, PUT responses and 412s. */
export interface Entry {
  key: string;
  contentType: string;
  /** Value length in bytes. */
  size: number;
  /** Writes since this life of the key began: 1 on create. */
  version: number;
  createRevision: number;
  /** The source of the ETag; never repeats for a key. */
  modRevision: number;
  /** ISO 8601. */
  updatedAt: string;
}

/** A value read with `get`: bytes as stored, plus what the response said about them. */
export interface Value {
  key: string;
  bytes: Uint8Array;
  contentType: string;
  etag: string;
  /** `X-Edgecfg-Version`, when the server sent it. */
  version?: number;
  lastModified?: string;
}

/** One item of `list`; `value` is present when asked for with `values: true`. */
export interface ListItem extends Entry {
  value?: unknown;
}

export interface ListPage {
  items: ListItem[];
  /** Opaque; null on the last page. */
  cursor: string | null;
  /** Shard revision of the state that answered, when the server says it. */
  revision?: number;
}

/** A non-JSON value inside a bundle: base64 with its content type. */
export interface EncodedValue {
  base64: string;
  contentType: string;
}

/** `GET /v1/ns/{namespace}`: what apps poll. JSON values inline, others as EncodedValue. */
export interface Bundle {
  namespace: string;
  /** The namespace's last modRevision (its ETag); 0 when never written. */
  revision: number;
  entries: Record<string, unknown>;
  /** name → content type and versions (absent in hand-written fallback files). */
  meta?: Record<string, { contentType: string; version: number; modRevision: number }>;
}

export interface HistoryItem {
  version: number;
  modRevision: number;
  updatedAt: string;
  size: number;
  deleted: boolean;
  createRevision?: number;
  contentType?: string;
  /** When the version was written (as updatedAt); who and why, when the server recorded them. */
  at?: string;
  actor?: Actor;
  reason?: string;
  requestId?: string;
}

/** Who made a revision: the admin token, a minted token (by id and name), or the store itself. */
export interface Actor {
  kind: "admin" | "token" | "system";
  id?: string;
  name?: string;
}

/** One revision of a namespace as GET /v1/audit lists it. */
export interface AuditItem {
  revision: number;
  at: string;
  actor: Actor;
  reason?: string;
  /** Absent only for revisions no request made (a lease that expired). */
  requestId?: string;
  /** put, delete, txn, leaseRevoke, leaseExpire; in _sys tokenCreate, tokenRevoke, namespaceSet. */
  op: string;
  keys: string[];
}

export interface AuditPage {
  namespace: string;
  revision: number;
  items: AuditItem[];
  /** Pass back as `cursor` for older revisions; null on the last page. */
  cursor: string | null;
}

export type CompareOperator = "=" | "!=" | "<" | ">";

/** One comparison of an etcd-style txn; values of `target: "value"` are strings or JSON. */
export type TxnCompare =
  | { key: string; target: "modRevision" | "version"; op: CompareOperator; value: number }
  | { key: string; target: "exists"; op: "=" | "!="; value: boolean }
  | { key: string; target: "value"; op: "=" | "!="; value?: unknown; valueBase64?: string };

/** A put gives `value` (JSON, or a string for non-JSON types) or `valueBase64` (raw bytes). */
export type TxnOp =
  | { type: "put"; key: string; value?: unknown; valueBase64?: string; contentType?: string }
  | { type: "delete"; key: string }
  | { type: "get"; key: string };

export interface TxnRequest {
  compare?: TxnCompare[];
  success?: TxnOp[];
  failure?: TxnOp[];
}

export interface TxnResponse {
  succeeded: boolean;
  /** Keys in one namespace: the shard revision after the txn. */
  revision?: number;
  /** Keys in several namespaces (a two-phase commit): each namespace's revision after it. */
  revisions?: Record<string, number>;
  results: unknown[];
}

/** A change seen by `watch`. */
export interface PutEvent {
  type: "put";
  key: string;
  modRevision: number;
  version: number;
  createRevision?: number;
  contentType?: string;
  /** Parsed JSON for JSON values, a string otherwise; absent with `values: false`. */
  value?: unknown;
  /** Who and why of the revision, when recorded. */
  at?: string;
  actor?: Actor;
  reason?: string;
  requestId?: string;
}

export interface DeleteEvent {
  type: "delete";
  key: string;
  modRevision: number;
  version?: number;
}

/**
 * The server compacted history past the watch position, so the SDK re-read the prefix: `entries`
 * is the whole state at `revision`. Replace local state with it; events after it follow.
 */
export interface ResyncEvent {
  type: "resync";
  revision: number;
  entries: ListItem[];
}

export type WatchEvent = PutEvent | DeleteEvent | ResyncEvent;

export type TokenOperation = "read" | "write" | "admin";

/** Namespaces by name or glob ("app-*", "*") and what the token may do there. */
export interface TokenScope {
  namespaces: string[];
  ops: TokenOperation[];
}

export interface TokenCreateRequest {
  scopes: TokenScope[];
  /** Lifetime from now; omit for a token that does not expire. */
  expiresInSeconds?: number;
  /** Shown as the actor of the token's writes (GET /v1/audit, history). */
  name?: string;
}

/** A namespace's settings (GET/PUT /v1/ns/{namespace}/settings). */
export interface NamespaceSettings {
  namespace: string;
  publicRead: boolean;
  /** JSON Schema 2020-12 per name prefix ("" = the whole namespace). */
  schemas: Record<string, unknown>;
}

/** A settings change: each setting given replaces that setting; one left out stays. */
export interface NamespaceSettingsChange {
  publicRead?: boolean;
  schemas?: Record<string, unknown>;
}

/** As listed: never the secret itself. */
export interface TokenInfo {
  id: string;
  /** As minted; null (or absent, from older servers) when none was given. */
  name?: string | null;
  scopes: TokenScope[];
  createdAt: string;
  expiresAt: string | null;
  /** Past expiresAt: the server refuses it (401). */
  expired: boolean;
}

/** As created: the only time the secret is shown. */
export interface CreatedToken extends TokenInfo {
  token: string;
}

/** A cluster operation as GET /v1/cluster/operations/{id} answers it. */
export interface ClusterOperation {
  id: string;
  kind: "addReplica" | "removeReplica" | "replaceReplica" | "transferLeader" | "reshard";
  shard: number;
  state: "running" | "done" | "failed";
  step: string;
  replica?: string;
  added?: string;
  location?: string;
  progress: { done: number; total: number; unit: string };
  startedAt: string;
  finishedAt?: string;
  error?: string;
  /** kind reshard: the ring change, the namespace moving now, what was copied. */
  reshard?: {
    fromShards: number;
    toShards: number;
    namespace?: string;
    namespaceStep?: string;
    moved: number;
    bytes: number;
    keys: number;
    /** Write pause per moved namespace, ms: p50 of the latest 256, p99 of all, max. */
    pauseMs: { p50: number; p99: number; max: number };
  };
}
