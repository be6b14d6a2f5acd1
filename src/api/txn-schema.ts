// The JSON shape of POST /v1/txn (etcd style) and its conversion to a store TxnCommand.
import { z } from "@hono/zod-openapi";
import { validateContentType } from "../store/index.ts";
import type { TxnCompare, TxnOp } from "../store/index.ts";
import { isJsonMediaType, parseJsonBytes, tooLarge } from "./body.ts";
import { checkKey } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import { badRequest } from "./problem.ts";
import { checkFlagDefinition } from "./flag-writes.ts";
import { fromBase64 } from "./values.ts";

const Key = z.string().openapi({ example: "app/flags" });
const valueFields = {
  value: z
    .unknown()
    .optional()
    .openapi({ description: "A JSON value (JSON content types) or a string (others)" }),
  valueBase64: z
    .string()
    .optional()
    .openapi({ description: "Raw bytes, base64; instead of value" }),
};
const Op4 = z.enum(["=", "!=", "<", ">"]);
const Op2 = z.enum(["=", "!="]);
const Revision = z.number().int().min(0);

export const Compare = z
  .discriminatedUnion("target", [
    z.object({ key: Key, target: z.literal("modRevision"), op: Op4, value: Revision }).strict(),
    z.object({ key: Key, target: z.literal("version"), op: Op4, value: Revision }).strict(),
    z.object({ key: Key, target: z.literal("exists"), op: Op2, value: z.boolean() }).strict(),
    z.object({ key: Key, target: z.literal("value"), op: Op2, ...valueFields }).strict(),
  ])
  .openapi("TxnCompare");

export const Op = z
  .discriminatedUnion("type", [
    z
      .object({
        type: z.literal("put"),
        key: Key,
        ...valueFields,
        contentType: z.string().optional().openapi({
          description:
            "Default application/json for value, application/octet-stream for valueBase64",
        }),
      })
      .strict(),
    z.object({ type: z.literal("delete"), key: Key }).strict(),
    z.object({ type: z.literal("get"), key: Key }).strict(),
  ])
  .openapi("TxnOp");

export const TxnRequest = z
  .object({
    compare: z.array(Compare).default([]),
    success: z.array(Op).default([]),
    failure: z.array(Op).default([]),
  })
  .strict()
  .openapi("TxnRequest");

export type TxnRequestBody = z.output<typeof TxnRequest>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function valueBytes(
  v: { value?: unknown; valueBase64?: string },
  contentType: string,
  where: string,
): Uint8Array {
  if ((v.value === undefined) === (v.valueBase64 === undefined))
    throw badRequest(`${where}: give exactly one of value and valueBase64`);
  if (v.valueBase64 !== undefined) {
    const bytes = fromBase64(v.valueBase64);
    if (bytes === null) throw badRequest(`${where}: valueBase64 is not valid base64`);
    if (isJsonMediaType(contentType)) parseJsonBytes(bytes, `${where} (valueBase64)`);
    return bytes;
  }
  if (isJsonMediaType(contentType)) return encoder.encode(JSON.stringify(v.value));
  if (typeof v.value !== "string")
    throw badRequest(
      `${where}: with contentType ${contentType} the value must be a string (or use valueBase64)`,
    );
  return encoder.encode(v.value);
}

export function toCompare(c: z.output<typeof Compare>, i: number): TxnCompare {
  const key = checkKey(c.key);
  if (c.target !== "value") return { ...c, key } as TxnCompare;
  const contentType = c.valueBase64 === undefined ? "application/json" : "application/octet-stream";
  return { key, target: "value", op: c.op, value: valueBytes(c, contentType, `compare[${i}]`) };
}

export function toOp(o: z.output<typeof Op>, where: string): TxnOp {
  const key = checkKey(o.key);
  if (o.type !== "put") return { type: o.type, key };
  const contentType =
    o.contentType ??
    (o.valueBase64 === undefined ? "application/json" : "application/octet-stream");
  const error = validateContentType(contentType);
  if (error !== null) throw badRequest(`${where}: contentType: ${error}`);
  const value = valueBytes(o, contentType, where);
  // 413 like a PUT of the same value: the request is well-formed, the value too large.
  if (value.byteLength > storeLimits.valueBytesMax)
    throw tooLarge(storeLimits.valueBytesMax, `${where}: the value`);
  if (isJsonMediaType(contentType)) checkFlagDefinition(key, JSON.parse(decoder.decode(value)));
  return { type: "put", key, value, contentType };
}
