// Listings under a prefix (paged by an opaque cursor), a key's retained history and a
// namespace's audit trail.
import type { ClientContext } from "./context.ts";
import { call, type CallOptions } from "./http.ts";
import { kvPath, namespaceOf } from "./keys.ts";
import type { AuditItem, AuditPage, HistoryItem, ListItem, ListPage } from "./types.ts";
import { decodeInline } from "./values.ts";

export interface ListOptions extends CallOptions {
  values?: boolean;
  /** Items per page, ≤ 1000. */
  limit?: number;
  cursor?: string;
  consistency?: "stale";
}

export async function listPage(
  ctx: ClientContext,
  prefix: string,
  options: ListOptions = {},
): Promise<ListPage> {
  const query = {
    prefix,
    values: options.values,
    limit: options.limit,
    cursor: options.cursor,
    consistency: options.consistency,
  };
  return ctx.http.send(
    { method: "GET", path: "/v1/kv", query, namespace: namespaceOf(prefix), ...call(options) },
    async (res) => normalizePage((await res.json()) as Record<string, unknown>),
  );
}

/** Tolerates `items` or `entries` as the array name, and `cursor`/`nextCursor`. */
function normalizePage(body: Record<string, unknown>): ListPage {
  const items = ((body.items ?? body.entries ?? []) as ListItem[]).map((i) =>
    "value" in i ? { ...i, value: decodeInline(i.value) } : i,
  );
  const cursor = (body.cursor ?? body.nextCursor ?? null) as string | null;
  const page: ListPage = { items, cursor };
  if (typeof body.revision === "number") page.revision = body.revision;
  return page;
}

/** Every item under the prefix, page by page. */
export async function* listAll(
  ctx: ClientContext,
  prefix: string,
  options: Omit<ListOptions, "cursor"> = {},
): AsyncGenerator<ListItem> {
  let cursor: string | undefined;
  do {
    const page = await listPage(
      ctx,
      prefix,
      cursor === undefined ? options : { ...options, cursor },
    );
    yield* page.items;
    cursor = page.cursor ?? undefined;
  } while (cursor);
}

export async function getHistory(
  ctx: ClientContext,
  key: string,
  options: CallOptions = {},
): Promise<HistoryItem[]> {
  return ctx.http.send(
    {
      method: "GET",
      path: kvPath(key) + "/history",
      namespace: namespaceOf(key),
      ...call(options),
    },
    async (res) => {
      const body = (await res.json()) as
        | HistoryItem[]
        | { items?: HistoryItem[]; versions?: HistoryItem[] };
      return Array.isArray(body) ? body : (body.items ?? body.versions ?? []);
    },
  );
}

export interface AuditOptions extends CallOptions {
  /** Revisions per page, ≤ 1000 (server default 100). */
  limit?: number;
  cursor?: string;
}

/** One page of a namespace's audit trail, newest first ("_sys": tokens and settings, admin). */
export async function auditPage(
  ctx: ClientContext,
  namespace: string,
  options: AuditOptions = {},
): Promise<AuditPage> {
  const query = { namespace, limit: options.limit, cursor: options.cursor };
  return ctx.http.send(
    { method: "GET", path: "/v1/audit", query, namespace, ...call(options) },
    async (res) => (await res.json()) as AuditPage,
  );
}

/** Every retained revision of the namespace, newest first. */
export async function* auditAll(
  ctx: ClientContext,
  namespace: string,
  options: Omit<AuditOptions, "cursor"> = {},
): AsyncGenerator<AuditItem> {
  let cursor: string | undefined;
  do {
    const page = await auditPage(ctx, namespace, { ...options, ...(cursor ? { cursor } : {}) });
    yield* page.items;
    cursor = page.cursor ?? undefined;
  } while (cursor);
}
