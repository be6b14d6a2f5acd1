// PUT/GET /v1/ns/{namespace}/settings: per-namespace settings; today only publicRead, which lets
// anyone (no Authorization header) read the namespace, e.g. browsers fetching their config.
import { z } from "@hono/zod-openapi";
import { systemNamespace } from "../../store/index.ts";
import { commandAudit } from "../audit.ts";
import { authorize } from "../auth.ts";
import { revisionHeader } from "../consistency.ts";
import { checkNamespace } from "../keys.ts";
import { apiLimits } from "../limits.ts";
import { outcomeProblem } from "../outcomes.ts";
import { defineRoute } from "../route.ts";
import { NamespaceParam, problems, headers, stateHeaders } from "../schemas.ts";

const Settings = z
  .object({
    publicRead: z
      .boolean()
      .openapi({ description: "true: reads of this namespace need no token (writes still do)" }),
  })
  .strict()
  .openapi("NamespaceSettings");

// Not Settings.extend: that documents as allOf with the strict Settings, which no answer satisfies.
const SettingsResponse = z
  .object({ namespace: z.string(), publicRead: Settings.shape.publicRead })
  .openapi("NamespaceSettingsResponse");

export const nsSettingsPut = defineRoute({
  method: "put",
  path: "/v1/ns/{namespace}/settings",
  operationId: "putNamespaceSettings",
  tags: ["namespaces"],
  summary: "Change a namespace's settings (admin)",
  description:
    "Needs the admin operation on the namespace. {publicRead: true} marks it public-read.",
  params: NamespaceParam,
  query: z.object({}).strict(),
  body: Settings,
  bodyBytesMax: apiLimits.smallBodyBytesMax,
  responses: {
    200: {
      description: "The settings now",
      content: { "application/json": { schema: SettingsResponse } },
      headers: headers(...stateHeaders),
    },
    ...problems(507),
  },
  handler: async (c, { body }) => {
    const namespace = checkNamespace(c.req.param("namespace") ?? "");
    await authorize(c, namespace, "admin");
    const { outcome, token } = await c.get("router").write(systemNamespace, {
      type: "namespaceSet",
      atMs: Date.now(),
      audit: commandAudit(c),
      namespace,
      publicRead: body.publicRead,
    });
    if (outcome.type !== "namespaceSet")
      throw outcomeProblem(outcome) ?? new Error(`unexpected outcome ${outcome.type}`);
    return c.json(outcome.settings, 200, { [revisionHeader]: token });
  },
});

export const nsSettingsGet = defineRoute({
  method: "get",
  path: "/v1/ns/{namespace}/settings",
  operationId: "getNamespaceSettings",
  tags: ["namespaces"],
  auth: "optional",
  summary: "A namespace's settings",
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
    const read = await c
      .get("router")
      .read(
        systemNamespace,
        { type: "namespaceSettings", namespace },
        { consistency: "linearizable" },
      );
    return c.json(read.result.settings, 200, { [revisionHeader]: read.token });
  },
});
