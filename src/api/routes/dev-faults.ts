// /v1/dev/faults: fault injection for local development and tests (cut a replica off, isolate a
// shard's leader, slow a location down, stop or restart a replica, clear all). It exists only
// where the Worker has the EDGECFG_DEV binding, which only the local server creates (a service
// binding to a function of its Node process: no deployment can have one); elsewhere the path is
// answered exactly as a path no route takes. Not in the OpenAPI document, for the same reason.
import { z } from "@hono/zod-openapi";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { FaultError, type FaultAction, type FaultWindow, type Router } from "../../router/index.ts";
import { authorize } from "../auth.ts";
import type { AppEnv, Ctx } from "../context.ts";
import { ApiProblem, badRequest, problemTypes } from "../problem.ts";

const replica = z.string().min(1).max(200);
/** When it begins and how long it lasts (then every fault clears), ms; at most ten minutes. */
const windowed = {
  afterMs: z.number().int().min(0).max(600_000).optional(),
  forMs: z.number().int().min(1).max(600_000).optional(),
};
const Fault = z.discriminatedUnion("action", [
  z.object({ action: z.enum(["cut", "cutInbound", "cutOutbound", "stop"]), replica, ...windowed }),
  z.object({ action: z.literal("restart"), replica }),
  z.object({ action: z.literal("isolateLeader"), shard: z.number().int().min(0), ...windowed }),
  z.object({
    action: z.literal("latency"),
    location: z.string().max(16),
    ms: z.number().int().min(0).max(60_000),
    ...windowed,
  }),
  z.object({ action: z.literal("failWrites"), replica, ...windowed }),
  z.object({ action: z.literal("cutLocation"), location: z.string().max(16), ...windowed }),
  z.object({
    action: z.literal("skewClock"),
    replica,
    ms: z.number().int().min(-86_400_000).max(86_400_000),
    ...windowed,
  }),
  z.object({ action: z.literal("clear") }),
]);

function faultsOf(c: Ctx): Required<Pick<Router, "injectFault" | "listFaults">> {
  const { injectFault, listFaults } = c.get("router");
  if (injectFault === undefined || listFaults === undefined) {
    throw new ApiProblem({
      status: 409,
      type: problemTypes.conflict,
      detail: 'fault injection needs replicas: BACKEND = "raft"',
    });
  }
  return { injectFault, listFaults };
}

async function inject(c: Ctx, fault: FaultAction, window?: FaultWindow): Promise<Response> {
  await authorize(c, "*", "admin");
  try {
    return c.json({ fault, replicas: await faultsOf(c).injectFault(fault, window) }, 200);
  } catch (error) {
    if (error instanceof FaultError) throw badRequest(error.message);
    throw error;
  }
}

export function mountDevFaults(app: OpenAPIHono<AppEnv>): void {
  const dev = (c: Ctx) => c.env.EDGECFG_DEV !== undefined;
  app.get("/v1/dev/faults", async (c) => {
    if (!dev(c)) return c.notFound();
    await authorize(c, "*", "admin");
    return c.json({ replicas: await faultsOf(c).listFaults() }, 200);
  });
  app.post("/v1/dev/faults", async (c) => {
    if (!dev(c)) return c.notFound();
    const parsed = Fault.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      throw badRequest(
        'send {"action": "cut"|"cutInbound"|"cutOutbound"|"stop"|"restart", "replica": ID}, ' +
          '{"action": "isolateLeader", "shard": N}, {"action": "latency", "location": L, ' +
          '"ms": N} or {"action": "clear"}',
      );
    }
    const { afterMs, forMs, ...fault } = parsed.data as FaultAction & FaultWindow;
    const window = {
      ...(afterMs === undefined ? {} : { afterMs }),
      ...(forMs === undefined ? {} : { forMs }),
    };
    return inject(c, fault as FaultAction, window);
  });
  app.delete("/v1/dev/faults", async (c) => {
    if (!dev(c)) return c.notFound();
    return inject(c, { action: "clear" });
  });
}
