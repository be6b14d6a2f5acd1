// Fault injection of the local server (POST /v1/dev/faults): for development and tests only; a
// deployment answers 404 (src/api/routes/dev-faults.ts says why).
import type { ClientContext } from "./context.ts";
import { call, type CallOptions } from "./http.ts";

/** `afterMs`: when it begins; `forMs`: how long it lasts, then every fault is cleared. */
export type DevFault = DevFaultAction & { afterMs?: number; forMs?: number };

export type DevFaultAction =
  | { action: "cut" | "cutInbound" | "cutOutbound" | "stop" | "restart"; replica: string }
  | { action: "isolateLeader"; shard: number }
  | { action: "latency"; location: string; ms: number }
  | { action: "cutLocation"; location: string }
  | { action: "failWrites"; replica: string }
  | { action: "skewClock"; replica: string; ms: number }
  | { action: "clear" };

export interface DevFaultsAnswer {
  replicas: { replica: string; shard: number; location: string; faults: Record<string, unknown> }[];
}

export function injectFault(
  ctx: ClientContext,
  fault: DevFault,
  options: CallOptions = {},
): Promise<DevFaultsAnswer> {
  return ctx.http.send(
    {
      method: "POST",
      path: "/v1/dev/faults",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(fault),
      retry: false,
      ...call(options),
    },
    async (res) => (await res.json()) as DevFaultsAnswer,
  );
}

export function listFaults(
  ctx: ClientContext,
  options: CallOptions = {},
): Promise<DevFaultsAnswer> {
  return ctx.http.send(
    { method: "GET", path: "/v1/dev/faults", ...call(options) },
    async (res) => (await res.json()) as DevFaultsAnswer,
  );
}
