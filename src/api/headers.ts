// Request headers the API reads, bounded: a header longer than any valid value of it is refused
// with 431 (RFC 6585) naming it, as problem+json, rather than parsed (a 64 KiB If-None-Match list)
// or answered with whatever its parser says. The runtime refuses heads beyond its own limit itself.
import type { Ctx } from "./context.ts";
import { apiLimits } from "./limits.ts";
import { ApiProblem, problemTypes } from "./problem.ts";

/** The header's value (undefined when absent); 431 when longer than apiLimits.headerBytesMax. */
export function boundedHeader(c: Ctx, name: string): string | undefined {
  const value = c.req.header(name);
  if (value !== undefined && value.length > apiLimits.headerBytesMax) {
    throw new ApiProblem({
      status: 431,
      type: problemTypes.headerTooLarge,
      detail:
        `the ${name} header is ${value.length} bytes; at most ${apiLimits.headerBytesMax} are ` +
        "accepted, and no valid value of it comes near: send it as the API returned it",
      extensions: { header: name, limitBytes: apiLimits.headerBytesMax },
    });
  }
  return value;
}
