// The `schemas` setting of a namespace over HTTP: {prefix: JSON Schema} on the wire, sorted
// SchemaRules (each schema as compact JSON text) in the store. The store checks every schema and
// judges the stored values (schemas.ts); this turns its answers into the API's.
import { z } from "@hono/zod-openapi";
import type { NamespaceSchemas, SchemaRule } from "../store/index.ts";
import { commandAudit } from "./audit.ts";
import type { Ctx } from "./context.ts";
import { outcomeProblem, schemaViolation } from "./outcomes.ts";
import { ApiProblem } from "./problem.ts";

export const JsonSchema = z
  .union([z.record(z.string(), z.unknown()), z.boolean()])
  .openapi("JsonSchema", { description: "A JSON Schema (2020-12)" });

export const Schemas = z.record(z.string(), JsonSchema).openapi("NamespaceSchemas", {
  description:
    'JSON Schema 2020-12 per name prefix ("" = the whole namespace). A JSON value written under ' +
    "a matching prefix must satisfy every matching schema, else 422 schema-violation; a value " +
    "of another content type under a matching prefix is refused the same way.",
});

type SchemasJson = Record<string, unknown>;

function toJson(s: NamespaceSchemas): SchemasJson {
  return Object.fromEntries(s.schemas.map((r) => [r.prefix, JSON.parse(r.schema) as unknown]));
}

function toRules(schemas: SchemasJson): SchemaRule[] {
  return Object.keys(schemas)
    .sort()
    .map((prefix) => ({ prefix, schema: JSON.stringify(schemas[prefix]) }));
}

export async function readSchemas(c: Ctx, namespace: string) {
  const read = await c
    .get("router")
    .read(namespace, { type: "namespaceSchemas", namespace }, { consistency: "linearizable" });
  return { schemas: toJson(read.result.schemas), token: read.token };
}

/** Replaces the namespace's schemas; 422 listing stored values that break them, unless force. */
export async function writeSchemas(
  c: Ctx,
  namespace: string,
  schemas: SchemasJson,
  force: boolean,
) {
  const { outcome, token } = await c.get("router").write(namespace, {
    type: "schemaSet",
    atMs: Date.now(),
    audit: commandAudit(c),
    namespace,
    schemas: toRules(schemas),
    ...(force ? { force: true as const } : {}),
  });
  if (outcome.type === "schemasSet") return { schemas: toJson(outcome.schemas), token };
  if (outcome.type === "schemaViolation") {
    const init = schemaViolation(outcome).init;
    throw new ApiProblem({
      ...init,
      detail:
        `${outcome.keys} stored value(s) break the new schemas (errors lists them): ` +
        "fix or delete them first, or send ?force=true to set the schemas anyway (the values " +
        "stay; their next write must conform); nothing was changed",
    });
  }
  throw outcomeProblem(outcome) ?? new Error(`unexpected outcome ${outcome.type}`);
}
