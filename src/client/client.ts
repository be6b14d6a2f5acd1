// createClient(): the SDK's entry point. A thin facade: each method delegates to reads.ts,
// list.ts, writes.ts, watch.ts or admin.ts, which share one ClientContext.
import { defaultBackoff, type BackoffOptions } from "./backoff.ts";
import { EtagCache } from "./cache.ts";
import type { ClientContext } from "./context.ts";
import { Fallback, type FallbackSource, type StaleInfo } from "./fallback.ts";
import { Http, type CallOptions, type FetchLike } from "./http.ts";
import * as admin from "./admin.ts";
import * as publish from "./publish.ts";
import * as dryRuns from "./dry-runs.ts";
import { operations } from "./operations.ts";
import { injectFault, listFaults, type DevFault } from "./dev.ts";
import * as list from "./list.ts";
import * as reads from "./reads.ts";
import * as writes from "./writes.ts";
import * as election from "./election.ts";
import { watch, type Snapshot, type WatchOptions } from "./watch.ts";
import type {
  AuditPage,
  Bundle,
  CreatedToken,
  Entry,
  HistoryItem,
  ListItem,
  ListPage,
  TokenCreateRequest,
  TokenInfo,
  TxnRequest,
  TxnResponse,
  Value,
  WatchEvent,
} from "./types.ts";
import { bytesToText, type PutValue } from "./values.ts";

export interface ClientOptions {
  /** Base URL of the store, e.g. "http://127.0.0.1:8787". */
  url: string;
  /** Bearer token; omit for public-read namespaces. */
  token?: string;
  /** Injectable fetch (tests, custom agents, a Worker's service binding). Default: global fetch. */
  fetch?: FetchLike;
  /** Deadline of one call, retries included. Default 10 s. */
  timeoutMs?: number;
  /** Tries of one call while the store is unavailable (network, 502/503/504/429). Default 3. */
  attemptsMax?: number;
  /** Values and bundles kept for ETag revalidation. Default 1000. */
  cacheEntriesMax?: number;
  backoff?: BackoffOptions;
  /** Served when the store is unreachable and nothing is cached (offline start). */
  fallback?: FallbackSource;
  /** Told whenever a read is answered from the cache or the fallback after a failure. */
  onStale?: (info: StaleInfo) => void;
  /** Why, sent with every write as X-Edgecfg-Reason (a call's own `reason` wins). */
  reason?: string;
}

export type EdgecfgClient = ReturnType<typeof createClient>;

export function createClient(options: ClientOptions) {
  const ctx = context(options);
  return {
    /** The value of a key, bytes as stored. NotFoundError when absent. */
    get: (key: string, o?: reads.GetOptions): Promise<Value> => reads.getValue(ctx, key, o),
    /** The value parsed as JSON. */
    getJSON: async <T = unknown>(key: string, o?: reads.GetOptions): Promise<T> =>
      JSON.parse(bytesToText((await reads.getValue(ctx, key, o)).bytes)) as T,
    getText: async (key: string, o?: reads.GetOptions): Promise<string> =>
      bytesToText((await reads.getValue(ctx, key, o)).bytes),
    meta: (key: string, o?: reads.GetOptions): Promise<Entry> => reads.getMeta(ctx, key, o),
    /** A namespace's bundle ({namespace, revision, entries}), revalidated by ETag. */
    bundle: (namespace: string, o?: reads.BundleOptions): Promise<Bundle> =>
      reads.getBundle(ctx, namespace, o),
    list: (prefix: string, o?: list.ListOptions): Promise<ListPage> =>
      list.listPage(ctx, prefix, o),
    listAll: (prefix: string, o?: Omit<list.ListOptions, "cursor">): AsyncGenerator<ListItem> =>
      list.listAll(ctx, prefix, o),
    history: (key: string, o?: CallOptions): Promise<HistoryItem[]> => list.getHistory(ctx, key, o),
    /** A namespace's revisions newest first: who, when, why (GET /v1/audit). */
    audit: (namespace: string, o?: list.AuditOptions): Promise<AuditPage> =>
      list.auditPage(ctx, namespace, o),
    /** Every retained revision of a namespace, newest first, page after page. */
    auditAll: (namespace: string, o?: Omit<list.AuditOptions, "cursor">) =>
      list.auditAll(ctx, namespace, o),
    put: (key: string, value: PutValue, o?: writes.PutOptions): Promise<writes.PutResult> =>
      writes.put(ctx, key, value, o),
    delete: (key: string, o?: writes.WriteOptions): Promise<void> => writes.remove(ctx, key, o),
    txn: (request: TxnRequest, o?: Omit<writes.WriteOptions, "ifMatch">): Promise<TxnResponse> =>
      writes.txn(ctx, request, o),
    /** Read → fn → compare-and-set, retried on conflict; undefined from fn means no write. */
    update: <T = unknown>(
      key: string,
      fn: writes.Updater<T>,
      o?: writes.UpdateOptions,
    ): Promise<writes.PutResult | undefined> => writes.update(ctx, key, fn, o),
    watch: (o: WatchOptions): AsyncGenerator<WatchEvent> => watch(watchDeps(ctx), o),
    /** namespaces.{apply, plan, rollback}: safe publishing of a whole namespace. */
    namespaces: publish.api(ctx),
    /** dryRun.{put, delete, txn}: what the write would do ({baseRevision, result, diff}). */
    dryRun: dryRuns.api(ctx),
    /** lease, leases.{get,keepAlive,revoke}, withLock, elect, observe (resign: on elect's). */
    ...election.api(ctx, (o) => watch(watchDeps(ctx), o)),
    cluster: (o?: CallOptions): Promise<unknown> => admin.cluster(ctx, o),
    /** Fault injection of the local server (`npm start`); a deployment answers 404. */
    dev: {
      injectFault: (fault: DevFault, o?: CallOptions) => injectFault(ctx, fault, o),
      listFaults: (o?: CallOptions) => listFaults(ctx, o),
    },
    /** Cluster operations (admin): each answers at once with the operation; `wait` follows it. */
    operations: operationsApi(ctx),
    tokens: {
      create: (request: TokenCreateRequest, o?: CallOptions): Promise<CreatedToken> =>
        admin.createToken(ctx, request, o),
      list: (o?: CallOptions): Promise<TokenInfo[]> => admin.listTokens(ctx, o),
      revoke: (id: string, o?: CallOptions): Promise<void> => admin.revokeToken(ctx, id, o),
    },
    /** publicRead and the schemas of a namespace; setSettings changes what is given (admin). */
    settings: (ns: string, o?: CallOptions) => admin.namespaceSettings(ctx, ns, o),
    setSettings: admin.setNamespaceSettings.bind(null, ctx),
    /** The newest consistency token held for a namespace (to hand to another client or process). */
    revisionToken: (namespace: string): string | undefined => ctx.http.tokens.get(namespace),
    /** Adopts a token from elsewhere, so this client reads at least that state. */
    observeRevisionToken: (namespace: string, token: string): void =>
      ctx.http.tokens.observe(namespace, token),
  };
}

/** Cluster operations (admin): each answers at once with the operation; `wait` follows it. */
function operationsApi(ctx: ClientContext) {
  return {
    addReplica: (shard: number, location: string, o?: CallOptions) =>
      operations.addReplica(ctx, shard, location, o),
    removeReplica: (shard: number, id: string, o?: { force?: boolean } & CallOptions) =>
      operations.removeReplica(ctx, shard, id, o),
    replaceReplica: (shard: number, id: string, o?: { location?: string } & CallOptions) =>
      operations.replaceReplica(ctx, shard, id, o),
    transferLeader: (shard: number, to: string, o?: CallOptions) =>
      operations.transferLeader(ctx, shard, to, o),
    reshard: (shards: number, o?: CallOptions) => operations.reshard(ctx, shards, o),
    get: (id: string, o?: { waitSeconds?: number } & CallOptions) => operations.get(ctx, id, o),
  };
}

function context(options: ClientOptions): ClientContext {
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const backoff = options.backoff ?? defaultBackoff;
  const http = new Http({
    baseUrl: options.url,
    token: options.token,
    fetch: fetchFn,
    timeoutMs: options.timeoutMs ?? 10_000,
    attemptsMax: options.attemptsMax ?? 3,
    backoff,
    reason: options.reason,
  });
  const entriesMax = options.cacheEntriesMax ?? 1000;
  return {
    http,
    values: new EtagCache<Value>(entriesMax),
    bundles: new EtagCache<Bundle>(entriesMax),
    fallback: new Fallback(options.fallback),
    backoff,
    onStale: options.onStale,
  };
}

function watchDeps(ctx: ClientContext) {
  return {
    http: ctx.http,
    backoff: { ...ctx.backoff, delayMsMax: Math.max(ctx.backoff.delayMsMax, 5_000) },
    snapshot: (prefix: string, values: boolean, signal?: AbortSignal) =>
      snapshot(ctx, prefix, values, signal),
    currentRevision: async (prefix: string, signal?: AbortSignal) =>
      (await list.listPage(ctx, prefix, { limit: 1, ...(signal ? { signal } : {}) })).revision,
  };
}

/** The whole prefix, with the revisions of its first and last page. */
async function snapshot(
  ctx: ClientContext,
  prefix: string,
  values: boolean,
  signal?: AbortSignal,
): Promise<Snapshot> {
  const items: ListItem[] = [];
  let cursor: string | undefined;
  let first: number | undefined;
  let last = 0;
  do {
    const page = await list.listPage(ctx, prefix, {
      values,
      ...(cursor ? { cursor } : {}),
      ...(signal ? { signal } : {}),
    });
    items.push(...page.items);
    first ??= page.revision ?? 0;
    last = Math.max(last, page.revision ?? 0);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return { items, fromRevision: first ?? 0, throughRevision: last };
}
