// The query language: every read a client can make of one shard's state, as one tagged union,
// and how the store answers it. It lives with the state it describes, so both backends (the
// Raft replicas, the single-object shard) answer a query the same way and the router only
// carries it: one meaning for every query, written once.
import type {
  AuditQuery,
  AuditResult,
  BundleResult,
  ClusterTopology,
  ChangesQuery,
  ChangesResult,
  GetQuery,
  GetResult,
  HistoryResult,
  Key,
  Lease,
  ListQuery,
  LockState,
  ListResult,
  MetaResult,
  NamespaceSchemas,
  NamespaceSettings,
  Revision,
  TokenRecord,
} from "./types.ts";
import type { DryRunCommand, DryRunResult } from "./dry-run.ts";
import type {
  Leaving,
  NamespaceExportQuery,
  NamespaceExportResult,
  ServedNamespaces,
} from "./moves-export.ts";

/** Every query a read may carry; the result type follows from `type` (see `QueryResult`). */
export type Query =
  | ({ type: "get" } & GetQuery)
  | { type: "meta"; key: Key }
  | ({ type: "list" } & ListQuery)
  | { type: "bundle"; namespace: string }
  | { type: "history"; key: Key }
  | ({ type: "changes" } & ChangesQuery)
  /** Audited revisions of a namespace (or `_sys`, on the `_sys` shard), newest first. */
  | ({ type: "audit" } & AuditQuery)
  /** Token lookup by sha-256 (lowercase hex); `_sys` namespace only. */
  | { type: "token"; hashHex: string }
  /** All token records (no secrets are ever stored); `_sys` namespace only. */
  | { type: "tokens" }
  /** Settings of one namespace (publicRead); `_sys` namespace only. */
  | { type: "namespaceSettings"; namespace: string }
  /** Schemas of one namespace; the namespace's own shard (which enforces them). */
  | { type: "namespaceSchemas"; namespace: string }
  /** The cluster directory; shard 0 only (every other shard answers null). */
  | { type: "cluster" }
  /** A live lease (null once it has ended), by id ("{namespace}~{n}"). */
  | { type: "lease"; id: string }
  /** A lock's holder and waiters, by "{namespace}/{name}". */
  | { type: "lock"; lock: Key }
  /** What a write would answer and change, computed on a fork of the state (dry-run.ts). */
  | { type: "dryRun"; command: DryRunCommand }
  /** One chunk of a namespace moving away (moves-export.ts); the source's leader answers it. */
  | ({ type: "namespaceExport" } & NamespaceExportQuery)
  /**
   * The namespaces this shard serves, sorted: what a reshard looks through. With `leaving`, only
   * those the new ring puts elsewhere, at most `limit` of them (moves-export.ts).
   */
  | { type: "servedNamespaces"; leaving?: Leaving };

export type TokenResult = { revision: Revision; token: TokenRecord | null };
export type TokensResult = { revision: Revision; tokens: TokenRecord[] };
export type NamespaceSettingsResult = { revision: Revision; settings: NamespaceSettings };
export type NamespaceSchemasResult = { revision: Revision; schemas: NamespaceSchemas };
export type ClusterResult = { revision: Revision; topology: ClusterTopology | null };
export type LeaseResult = { revision: Revision; lease: Lease | null };
export type LockResult = { revision: Revision; lock: LockState };

export type QueryResult<Q extends Query> = {
  get: GetResult;
  meta: MetaResult;
  list: ListResult;
  bundle: BundleResult;
  history: HistoryResult;
  changes: ChangesResult;
  audit: AuditResult;
  token: TokenResult;
  tokens: TokensResult;
  namespaceSettings: NamespaceSettingsResult;
  namespaceSchemas: NamespaceSchemasResult;
  cluster: ClusterResult;
  lease: LeaseResult;
  lock: LockResult;
  dryRun: DryRunResult;
  namespaceExport: NamespaceExportResult;
  servedNamespaces: ServedNamespacesResult;
}[Q["type"]];

/** `total`: how many there are in all (`namespaces` stops at the query's limit). */
export type ServedNamespacesResult = { revision: Revision; namespaces: string[]; total: number };

/** The reads a query is answered from (the Store's; a structural type, so no import circle). */
export interface Queryable {
  readonly revision: Revision;
  get(query: GetQuery): GetResult;
  meta(key: Key): MetaResult;
  list(query: ListQuery): ListResult;
  bundle(namespace: string): BundleResult;
  history(key: Key): HistoryResult;
  changes(query: ChangesQuery): ChangesResult;
  audit(query: AuditQuery): AuditResult;
  tokenByHash(hashHex: string): TokenRecord | null;
  tokens(): TokenRecord[];
  namespaceSettings(namespace: string): NamespaceSettings;
  namespaceSchemas(namespace: string): NamespaceSchemas;
  cluster(): ClusterTopology | null;
  lease(id: string): Lease | null;
  lock(lock: Key): LockState;
  dryRun(command: DryRunCommand): DryRunResult;
  namespaceExport(query: NamespaceExportQuery): NamespaceExportResult;
  servedNamespaces(leaving?: Leaving): ServedNamespaces;
}

export function answer<Q extends Query>(store: Queryable, query: Q): QueryResult<Q> {
  const q = query as Query;
  const revision = store.revision;
  switch (q.type) {
    case "get":
      return store.get(
        q.atRevision === undefined ? { key: q.key } : { key: q.key, atRevision: q.atRevision },
      ) as QueryResult<Q>;
    case "meta":
      return store.meta(q.key) as QueryResult<Q>;
    case "list": {
      const { type: _, ...list } = q;
      return store.list(list) as QueryResult<Q>;
    }
    case "bundle":
      return store.bundle(q.namespace) as QueryResult<Q>;
    case "history":
      return store.history(q.key) as QueryResult<Q>;
    case "changes": {
      const { type: _, ...changes } = q;
      return store.changes(changes) as QueryResult<Q>;
    }
    case "audit": {
      const { type: _, ...audit } = q;
      return store.audit(audit) as QueryResult<Q>;
    }
    case "token":
      return { revision, token: store.tokenByHash(q.hashHex) } as QueryResult<Q>;
    case "tokens":
      return { revision, tokens: store.tokens() } as QueryResult<Q>;
    case "namespaceSettings":
      return { revision, settings: store.namespaceSettings(q.namespace) } as QueryResult<Q>;
    case "namespaceSchemas":
      return { revision, schemas: store.namespaceSchemas(q.namespace) } as QueryResult<Q>;
    case "cluster":
      return { revision, topology: store.cluster() } as QueryResult<Q>;
    case "lease":
      return { revision, lease: store.lease(q.id) } as QueryResult<Q>;
    case "lock":
      return { revision, lock: store.lock(q.lock) } as QueryResult<Q>;
    case "dryRun":
      return store.dryRun(q.command) as QueryResult<Q>;
    case "namespaceExport": {
      const { type: _, ...exported } = q;
      return store.namespaceExport(exported) as QueryResult<Q>;
    }
    case "servedNamespaces":
      return { revision, ...store.servedNamespaces(q.leaving) } as QueryResult<Q>;
  }
}

/**
 * What a lock's waiter waits on (waitForChange's key): no key can start with "#". It changes when
 * the lock is acquired anew (its token is then a later revision) or freed.
 */
export function lockWaitKey(lock: Key): string {
  return `#lock ${lock}`;
}

/**
 * What one waiter of a lock waits on: its own turn, not every hand-over. It changes when the
 * lock is handed to `lease` or `lease` leaves the queue (withdrawn, ended). With all waiters on
 * lockWaitKey, each hand-over woke the whole queue and every one of them read and waited again:
 * n reads and waits per hand-over (the lock bench at 16 contenders: 38 DO requests per cycle,
 * 12 with a turn each).
 */
export function lockTurnKey(lock: Key, lease: string): string {
  // A lease id has no space (store/leases.ts: "{namespace}~{n}"); the lock is the rest.
  return `#turn ${lease} ${lock}`;
}

/** The lock a lockWaitKey or lockTurnKey is about; undefined for any other key. */
export function lockOfWaitKey(key: string): Key | undefined {
  if (key.startsWith("#lock ")) return key.slice("#lock ".length);
  if (!key.startsWith("#turn ")) return undefined;
  return key.slice(key.indexOf(" ", "#turn ".length) + 1);
}

function turnCame(store: Queryable, key: string): boolean {
  const lease = key.slice("#turn ".length, key.indexOf(" ", "#turn ".length));
  const state = store.lock(lockOfWaitKey(key)!);
  return state.holder?.lease === lease || !state.waiters.includes(lease);
}

/**
 * Whether `key` (or, without one, any key of `namespace`) was written (put or delete) at a
 * revision after `afterRevision`: the check a long-poll waiter makes before and while it waits.
 */
export function changedSince(
  store: Queryable,
  namespace: string,
  key: string | undefined,
  afterRevision: Revision,
): boolean {
  if (store.revision <= afterRevision) return false;
  if (key?.startsWith("#turn ")) return turnCame(store, key);
  if (key?.startsWith("#lock ")) {
    const holder = store.lock(key.slice("#lock ".length)).holder;
    return holder === null || holder.fencingToken > afterRevision;
  }
  if (key === undefined) {
    const bundle = store.bundle(namespace);
    return bundle.type !== "bundle" || bundle.namespaceRevision > afterRevision;
  }
  const meta = store.meta(key);
  if (meta.type === "found") return meta.entry.modRevision > afterRevision;
  const history = store.history(key);
  // A delete after afterRevision leaves a tombstone newer than it.
  return history.type === "history" && (history.items[0]?.modRevision ?? 0) > afterRevision;
}
