// PUT/GET /v1/ns/{namespace}/settings: per-namespace settings. publicRead lets anyone (no
// Authorization header) read the namespace, e.g. browsers fetching their config; it lives in
// `_sys`, where every authorization looks it up. schemas (http-api.md "Safe publishing") live in
// the namespace's own shard, the one that applies its writes: a write and a schema change are
// then ordered by one log, and each write is judged by the schemas in force when it commits.
import { z } from "@hono/zod-openapi";
import { systemNamespace } from "../../store/index.ts";
import { commandAudit } from "../audit.ts";
import { authorize } from "../auth.ts";
import { revisionHeader } from "../consistency.ts";
import type { Ctx } from "../context.ts";
import { checkNamespace } from "../keys.ts";
import { apiLimits } from "../limits.ts";
import { badRequest } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { readSchemas, Schemas, writeSchemas } from "../schema-settings.ts";
import { Flag, NamespaceParam, problems, headers, stateHeaders } from "../schemas.ts";
import { outcomeProblem } from "../outcomes.ts";

const publicRead = z
  .boolean()
  .openapi({ description: "true: reads of this namespace need no token (writes still do)" });

const Settings = z
  .object({ publicRead: publicRead.optional(), schemas: Schemas.optional() })
  .strict()
  .openapi("NamespaceSettings", {
    description: "Each setting given replaces that setting; a setting left out stays as it is",
  });

// Not Settings.extend: that documents as allOf with the strict Settings, which no answer satisfies.
const SettingsResponse = z
  .object({ namespace: z.string(), publicRead, schemas: Schemas })
  .openapi("NamespaceSettingsResponse");

export const nsSettingsPut = defineRoute({
  method: "put",
  path: "/v1/ns/{namespace}/settings",
  operationId: "putNamespaceSettings",
  tags: ["namespaces"],
  summary: "Change a namespace's settings (admin)",
  description:
    "Needs the admin operation on the namespace. {publicRead: true} marks it public-read. " +
    "{schemas: {prefix: JSON Schema 2020-12}} replaces the namespace's schemas " +
    "({} removes them): " +
    "400 when one is no JSON Schema, 422 schema-violation listing the stored values that break " +
    "them unless force=true. A setting left out stays as it is.",
  params: NamespaceParam,
  query: z.object({ force: Flag }).strict(),
  body: Settings,
  bodyBytesMax: apiLimits.settingsBodyBytesMax,
  responses: {
    200: {
      description: "The settings now",
      content: { "application/json": { schema: SettingsResponse } },
      headers: headers(...stateHeaders),
    },
    ...problems(422, 507),
  },
  handler: async (c, { body, query }) => {
    const namespace = checkNamespace(c.req.param("namespace") ?? "");
    await authorize(c, namespace, "admin");
    if (body.publicRead === undefined && body.schemas === undefined)
      throw badRequest("give publicRead, schemas or both");
    const force = query.force === "" || query.force === "true";
    const schemas =
      body.schemas === undefined
        ? await readSchemas(c, namespace)
        : await writeSchemas(c, namespace, body.schemas, force);
    const access =
      body.publicRead === undefined
        ? await readPublic(c, namespace)
        : await writePublic(c, namespace, body.publicRead);
    const token = body.schemas === undefined ? access.token : schemas.token;
    return c.json({ namespace, publicRead: access.publicRead, schemas: schemas.schemas }, 200, {
      [revisionHeader]: token,
    });
  },
});

async function writePublic(c: Ctx, namespace: string, publicRead: boolean) {
  const { outcome, token } = await c.get("router").write(systemNamespace, {
    type: "namespaceSet",
    atMs: Date.now(),
    audit: commandAudit(c),
    namespace,
    publicRead,
  });
  if (outcome.type !== "namespaceSet")
    throw outcomeProblem(outcome) ?? new Error(`unexpected outcome ${outcome.type}`);
  return { publicRead: outcome.settings.publicRead, token };
}

async function readPublic(c: Ctx, namespace: string) {
  const read = await c
    .get("router")
    .read(
      systemNamespace,
      { type: "namespaceSettings", namespace },
      { consistency: "linearizable" },
    );
  return { publicRead: read.result.settings.publicRead, token: read.token };
}

export const nsSettingsGet = defineRoute({
  method: "get",
  path: "/v1/ns/{namespace}/settings",
  operationId: "getNamespaceSettings",
  tags: ["namespaces"],
  auth: "optional",
  summary: "A namespace's settings",
  description:
    "publicRead and the schemas in force. X-Edgecfg-Revision is the namespace's token (the " +
    "shard that holds its schemas and values).",
  params: NamespaceParam,
  query: z.object({}).strict(),
  responses: {
    200: {
      description: "The settings",
      content: { "application/json": { schema: SettingsResponse } },
      headers: headers(...stateHeaders),
    },
    ...problems(),
  },
  handler: async (c) => {
    const namespace = checkNamespace(c.req.param("namespace") ?? "");
    await authorize(c, namespace, "read");
    const [access, schemas] = await Promise.all([
      readPublic(c, namespace),
      readSchemas(c, namespace),
    ]);
    return c.json({ namespace, publicRead: access.publicRead, schemas: schemas.schemas }, 200, {
      [revisionHeader]: schemas.token,
    });
  },
});
