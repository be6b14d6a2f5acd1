// The body of POST /v1/ns/{ns}/apply, in the bundle's own format (GET /v1/ns/{ns}, `ns export`):
// `entries` maps each name to its value, a JSON value inline (stored as application/json, or as
// the JSON content type `meta[name].contentType` names) and any other value as
// {contentType, base64}. So an exported bundle's entries and meta apply as they are.
import { z } from "@hono/zod-openapi";
import type { ApplyEntry } from "../store/index.ts";
import { validateContentType, validateName } from "../store/index.ts";
import { isJsonMediaType, parseJsonBytes } from "./body.ts";
import { checkFlagDefinition } from "./flag-writes.ts";
import { apiLimits } from "./limits.ts";
import { ApiProblem, badRequest, problemTypes } from "./problem.ts";
import { EncodedValue } from "./schemas.ts";
import { fromBase64 } from "./values.ts";

export const ApplyRequest = z
  .object({
    entries: z.record(z.string(), EncodedValue).openapi({
      description: "name → value: JSON inline, any other value {contentType, base64} (as a bundle)",
    }),
    meta: z
      .record(z.string(), z.object({ contentType: z.string() }).passthrough())
      .optional()
      .openapi({
        description:
          "name → {contentType}: the JSON content type of an inline value (default " +
          "application/json); a bundle's meta fits as it is",
      }),
    prune: z
      .boolean()
      .optional()
      .openapi({ description: "true: also delete the namespace's keys not in entries" }),
    ifRevision: z.number().int().min(0).optional().openapi({
      description:
        "Apply only while the namespace's revision (the bundle ETag) is still this; else 412",
    }),
  })
  .strict()
  .openapi("ApplyRequest");

export type ApplyRequestBody = z.output<typeof ApplyRequest>;

const encoder = new TextEncoder();

function isEncoded(v: unknown): v is { contentType: string; base64: string } {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.base64 === "string" && typeof o.contentType === "string" && Object.keys(o).length === 2
  );
}

function entryOf(namespace: string, name: string, value: unknown, declared?: string): ApplyEntry {
  const nameError = validateName(name);
  if (nameError !== null) throw badRequest(`entries[${JSON.stringify(name)}]: ${nameError}`);
  const where = `entries[${JSON.stringify(name)}]`;
  if (isEncoded(value)) {
    const typeError = validateContentType(value.contentType);
    if (typeError !== null) throw badRequest(`${where}.contentType: ${typeError}`);
    const bytes = fromBase64(value.base64);
    if (bytes === null) throw badRequest(`${where}.base64 is not valid base64`);
    if (isJsonMediaType(value.contentType))
      checkFlagDefinition(`${namespace}/${name}`, parseJsonBytes(bytes, where));
    return { name, value: bytes, contentType: value.contentType };
  }
  const contentType =
    declared !== undefined && isJsonMediaType(declared) ? declared : "application/json";
  checkFlagDefinition(`${namespace}/${name}`, value);
  return { name, value: encoder.encode(JSON.stringify(value)), contentType };
}

/** The entries to apply, in name order, each checked as its PUT would be. */
export function applyEntries(namespace: string, body: ApplyRequestBody): ApplyEntry[] {
  const names = Object.keys(body.entries).sort();
  if (names.length > apiLimits.applyEntriesMax) {
    throw badRequest(
      `the apply has ${names.length} entries; at most ${apiLimits.applyEntriesMax} are allowed`,
    );
  }
  const entries = names.map((n) =>
    entryOf(namespace, n, body.entries[n], body.meta?.[n]?.contentType),
  );
  const bytes = entries.reduce((n, e) => n + e.value.byteLength, 0);
  if (bytes > apiLimits.applyValueBytesMax) {
    throw new ApiProblem({
      status: 413,
      type: problemTypes.payloadTooLarge,
      detail:
        `the apply writes ${bytes} bytes of values; at most ${apiLimits.applyValueBytesMax} ` +
        "in one apply (one atomic change): split the namespace, or apply in parts without prune",
    });
  }
  return entries;
}
