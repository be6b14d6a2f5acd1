// OFREP's own answers. OFREP 0.3.0 defines the error bodies its providers parse: 400 with
// {key?, errorCode, errorDetails} (INVALID_CONTEXT, PARSE_ERROR, TARGETING_KEY_MISSING, GENERAL),
// 404 with {key, errorCode: FLAG_NOT_FOUND}, 500 with {errorDetails}. An official provider reads
// errorCode to pick the OpenFeature error it raises, so these routes answer in that shape instead
// of problem+json. Statuses OFREP gives no body (401, 403, 429) and those it does not list
// (413, 503) keep the API's problem+json from errors.ts: no OFREP client reads their bodies.
import { ShardUnavailableError } from "../router/index.ts";
import type { EvaluationErrorCode } from "../flags/index.ts";
import { ApiProblem } from "./problem.ts";

const jsonHeaders = { "Content-Type": "application/json", "Cache-Control": "no-store" };

/** A request OFREP calls malformed: answered 400 with its error code. */
export class OfrepRequestError extends Error {
  override name = "OfrepRequestError";
  constructor(
    readonly errorCode: EvaluationErrorCode,
    readonly errorDetails: string,
  ) {
    super(errorDetails);
  }
}

export function ofrepJson(status: number, body: unknown, headers?: Record<string, string>) {
  return new Response(JSON.stringify(body), { status, headers: { ...jsonHeaders, ...headers } });
}

function failure(key: string | undefined, errorCode: string, errorDetails: string): Response {
  return ofrepJson(400, { ...(key === undefined ? {} : { key }), errorCode, errorDetails });
}

/** The OFREP answer to a thrown error, or undefined to let errors.ts answer it. */
function ofrepError(err: unknown, key: string | undefined): Response | undefined {
  if (err instanceof OfrepRequestError) return failure(key, err.errorCode, err.errorDetails);
  if (err instanceof ApiProblem) {
    // A bad namespace name or consistency header: OFREP's "bad evaluation request".
    return err.init.status === 400 ? failure(key, "GENERAL", err.init.detail) : undefined;
  }
  if (err instanceof ShardUnavailableError) return undefined;
  if (err instanceof Error && (err.name === "TopologyError" || err.name === "BadTokenError"))
    return undefined;
  console.error("edgecfg: unexpected error in an OFREP evaluation", err);
  return ofrepJson(500, { errorDetails: "an unexpected error occurred (it is logged); retry" });
}

/** Runs an OFREP route, answering its errors as OFREP specifies. */
export async function ofrepAnswer(
  key: string | undefined,
  run: () => Promise<Response>,
): Promise<Response> {
  try {
    return await run();
  } catch (err) {
    const answer = ofrepError(err, key);
    if (answer === undefined) throw err;
    return answer;
  }
}
