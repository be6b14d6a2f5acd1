// Consistency of reads and the tokens that carry it (http-api.md, "Consistency of reads"):
// `?consistency=stale`, `X-Edgecfg-Min-Revision` in, `X-Edgecfg-Revision` and (stale)
// `X-Edgecfg-Applied-Revision` out.
import { boundedHeader } from "./headers.ts";
import { revisionFor, type Read, type ReadOptions } from "../router/index.ts";
import type { Ctx } from "./context.ts";
import { badRequest } from "./problem.ts";

export const revisionHeader = "X-Edgecfg-Revision";
export const minRevisionHeader = "X-Edgecfg-Min-Revision";
export const appliedRevisionHeader = "X-Edgecfg-Applied-Revision";

export function readOptions(
  c: Ctx,
  consistency: "linearizable" | "stale" | undefined,
): ReadOptions {
  const options: ReadOptions = { consistency: consistency ?? "linearizable" };
  const min = boundedHeader(c, minRevisionHeader);
  if (min !== undefined) {
    if (revisionFor(min, 0) === null) {
      throw badRequest(
        `${minRevisionHeader} ${JSON.stringify(min)} is not a consistency token; send back a ` +
          `${revisionHeader} header exactly as received (e.g. s3.1042)`,
      );
    }
    options.minToken = min.trim();
  }
  return options;
}

/**
 * The replica's applied state as a consistency token (`s3.1042`): how old a stale answer may be,
 * in the form X-Edgecfg-Min-Revision accepts, so a client can pin later reads to at least it.
 */
function appliedToken(read: Read<unknown>): string {
  return read.token.slice(0, read.token.indexOf(".") + 1) + read.appliedRevision;
}

/** Headers saying which state answered a read. */
export function readHeaders(read: Read<unknown>, options: ReadOptions): Record<string, string> {
  const headers: Record<string, string> = { [revisionHeader]: read.token };
  if (options.consistency === "stale") headers[appliedRevisionHeader] = appliedToken(read);
  return headers;
}
