// Dry runs of single writes (?dryRun=true, http-api.md "Safe publishing"): the same request as
// the write, answered with what it would do ({dryRun, baseRevision, result, diff}) and nothing
// written. A write that would fail throws the error it would (ConflictError on 412, …).
import type { ClientContext } from "./context.ts";
import { call } from "./http.ts";
import { kvPath, namespaceOf } from "./keys.ts";
import type { DryRun } from "./publish.ts";
import type { Entry, TxnRequest, TxnResponse } from "./types.ts";
import { encodeBody, type PutValue } from "./values.ts";
import { writeHeaders, type PutOptions, type WriteOptions } from "./writes.ts";

const dryRun = { dryRun: true };

export function put(
  ctx: ClientContext,
  key: string,
  value: PutValue,
  options: PutOptions = {},
): Promise<DryRun<Entry>> {
  const { body, contentType } = encodeBody(value, options.contentType);
  const headers: Record<string, string> = { ...writeHeaders(options), "content-type": contentType };
  if (options.createOnly) headers["if-none-match"] = "*";
  if (options.lease !== undefined) headers["x-edgecfg-lease"] = options.lease;
  return ctx.http.send(
    { method: "PUT", path: kvPath(key), query: dryRun, headers, body, ...call(options) },
    async (res) => (await res.json()) as DryRun<Entry>,
  );
}

export function remove(
  ctx: ClientContext,
  key: string,
  options: WriteOptions = {},
): Promise<DryRun<Entry>> {
  return ctx.http.send(
    {
      method: "DELETE",
      path: kvPath(key),
      query: dryRun,
      headers: writeHeaders(options),
      namespace: namespaceOf(key),
      ...call(options),
    },
    async (res) => (await res.json()) as DryRun<Entry>,
  );
}

export function txn(
  ctx: ClientContext,
  request: TxnRequest,
  options: Omit<WriteOptions, "ifMatch"> = {},
): Promise<DryRun<TxnResponse>> {
  const headers = { ...writeHeaders(options), "content-type": "application/json" };
  return ctx.http.send(
    {
      method: "POST",
      path: "/v1/txn",
      query: dryRun,
      headers,
      body: JSON.stringify(request),
      ...call(options),
    },
    async (res) => (await res.json()) as DryRun<TxnResponse>,
  );
}

/** The client's `dryRun` group. */
export function api(ctx: ClientContext) {
  return {
    put: (key: string, value: PutValue, o?: PutOptions) => put(ctx, key, value, o),
    delete: (key: string, o?: WriteOptions) => remove(ctx, key, o),
    txn: (request: TxnRequest, o?: Omit<WriteOptions, "ifMatch">) => txn(ctx, request, o),
  };
}
