// Safe publishing (http-api.md): declarative apply and rollback of a whole namespace, and dry
// runs of them. Each carries an Idempotency-Key, so a retry after a lost answer returns the first
// outcome; a dry run writes nothing and may be repeated freely.
import type { ClientContext } from "./context.ts";
import { call, type CallOptions } from "./http.ts";
import type { Entry } from "./types.ts";

/** The body of an apply: the bundle's format (JSON inline, others {contentType, base64}). */
export interface ApplyRequest {
  entries: Record<string, unknown>;
  /** name → the JSON content type of an inline entry (default application/json). */
  meta?: Record<string, { contentType: string }>;
  /** Also delete the namespace's keys not in `entries`. */
  prune?: boolean;
  /** Only while the namespace's revision (its bundle ETag, a number) is still this: else 412. */
  ifRevision?: number;
}

export interface NamespaceWriteResult {
  namespace: string;
  /** The namespace's revision after the write; unchanged when nothing changed. */
  revision: number;
  changed: boolean;
  changes: { key: string; change: "created" | "updated" | "deleted"; entry: Entry }[];
}

export interface DiffEntry {
  key: string;
  change: "create" | "update" | "delete";
  /** Values as in a bundle: JSON inline, others {contentType, base64}. */
  before?: unknown;
  after?: unknown;
}

/** What a write would do: judged on the namespace's linearizable state at `baseRevision`. */
export interface DryRun<T> {
  dryRun: true;
  /** The namespace's revision it was judged on: the `ifRevision` that applies onto that state. */
  baseRevision: number;
  result: T;
  diff: DiffEntry[];
}

export interface PublishOptions extends CallOptions {
  /** Set to make retries of the same publish return its first outcome (default: a new UUID). */
  idempotencyKey?: string;
}

async function post<T>(
  ctx: ClientContext,
  path: string,
  namespace: string,
  body: unknown,
  dryRun: boolean,
  options: PublishOptions,
): Promise<T> {
  const headers = {
    "content-type": "application/json",
    "idempotency-key": options.idempotencyKey ?? crypto.randomUUID(),
  };
  const result = await ctx.http.send(
    {
      method: "POST",
      path: `/v1/ns/${encodeURIComponent(namespace)}/${path}`,
      ...(dryRun ? { query: { dryRun: true } } : {}),
      headers,
      body: JSON.stringify(body),
      namespace,
      ...call(options),
    },
    async (res) => (await res.json()) as T,
  );
  const changes = (result as Partial<NamespaceWriteResult>).changes ?? [];
  for (const ch of changes) ctx.values.delete(ch.key);
  return result;
}

export function applyNamespace(
  ctx: ClientContext,
  namespace: string,
  request: ApplyRequest,
  options: PublishOptions = {},
): Promise<NamespaceWriteResult> {
  return post(ctx, "apply", namespace, request, false, options);
}

export function planApply(
  ctx: ClientContext,
  namespace: string,
  request: ApplyRequest,
  options: CallOptions = {},
): Promise<DryRun<NamespaceWriteResult>> {
  return post(ctx, "apply", namespace, request, true, options);
}

export interface RollbackRequest {
  toRevision: number;
  ifRevision?: number;
}

export function rollbackNamespace(
  ctx: ClientContext,
  namespace: string,
  request: RollbackRequest,
  options: PublishOptions & { dryRun?: boolean } = {},
): Promise<NamespaceWriteResult | DryRun<NamespaceWriteResult>> {
  return post(ctx, "rollback", namespace, request, options.dryRun ?? false, options);
}

/** The client's `namespaces` group. */
export function api(ctx: ClientContext) {
  return {
    /** Makes the namespace hold exactly `request.entries` (one atomic change). */
    apply: (namespace: string, request: ApplyRequest, o?: PublishOptions) =>
      applyNamespace(ctx, namespace, request, o),
    /** What `apply` would do (a dry run): its diff and the baseRevision to apply it onto. */
    plan: (namespace: string, request: ApplyRequest, o?: CallOptions) =>
      planApply(ctx, namespace, request, o),
    rollback: (
      namespace: string,
      request: RollbackRequest,
      o?: PublishOptions & { dryRun?: boolean },
    ) => rollbackNamespace(ctx, namespace, request, o),
  };
}
