// `?wait=` durations: "30s", "1500ms", "1m", or plain seconds ("30").
import { badRequest } from "./problem.ts";
import { apiLimits } from "./limits.ts";

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

export function parseWaitMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{1,7})(ms|s|m)?$/.exec(value.trim());
  if (!m)
    throw badRequest(
      `wait=${JSON.stringify(value)} is not a duration; use e.g. wait=30s, wait=1500ms or wait=1m`,
    );
  const ms = Number(m[1]) * units[m[2] ?? "s"]!;
  if (ms > apiLimits.waitMsMax) {
    throw badRequest(
      `wait=${value} is longer than ${apiLimits.waitMsMax / 1000} s, the maximum; poll again after it ends`,
    );
  }
  return ms;
}
