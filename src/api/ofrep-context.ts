// The evaluation context of an OFREP request: the body's `context` (a JSON object, whose
// targetingKey, when present, is a string), plus the caller's location from the request as
// `country` (ISO 3166-1 alpha-2) and `colo` (the Cloudflare data centre, IATA code) when the
// context does not set them itself: a browser's request says where its user is.
import type { EvaluationContext } from "../flags/index.ts";
import { parseJsonBytes, readBody } from "./body.ts";
import type { Ctx } from "./context.ts";
import { apiLimits } from "./limits.ts";
import { ApiProblem } from "./problem.ts";
import { OfrepRequestError } from "./ofrep-answers.ts";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bodyContext(body: unknown): EvaluationContext {
  if (!isObject(body))
    throw new OfrepRequestError("INVALID_CONTEXT", "the body must be a JSON object {context: {…}}");
  const context = body["context"];
  if (!isObject(context)) {
    throw new OfrepRequestError(
      "INVALID_CONTEXT",
      "the body's context must be a JSON object (the evaluation context)",
    );
  }
  const targetingKey = context["targetingKey"];
  if (targetingKey !== undefined && typeof targetingKey !== "string")
    throw new OfrepRequestError("INVALID_CONTEXT", "the context's targetingKey must be a string");
  return context;
}

/** A body of a declared, small length: read at once (readBody's chunk loop costs ~10 µs). */
async function declaredSmallBody(c: Ctx): Promise<unknown | typeof notDeclared> {
  const declared = c.req.header("Content-Length");
  if (declared === undefined || !/^\d{1,6}$/.test(declared)) return notDeclared;
  if (Number(declared) > apiLimits.smallBodyBytesMax) return notDeclared; // readBody says 413
  const text = await c.req.raw.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : "parse error";
    throw new OfrepRequestError("INVALID_CONTEXT", `the request body is not JSON (${why})`);
  }
}

const notDeclared = Symbol("no declared length");

async function readContextBody(c: Ctx): Promise<unknown> {
  const small = await declaredSmallBody(c);
  if (small !== notDeclared) return small;
  const bytes = await readBody(c.req.raw, apiLimits.smallBodyBytesMax);
  try {
    return parseJsonBytes(bytes, "the request body");
  } catch (err) {
    if (err instanceof ApiProblem) throw new OfrepRequestError("INVALID_CONTEXT", err.init.detail);
    throw err;
  }
}

/** Location properties the request's `cf` object gives (absent in local runs without them). */
export function requestLocation(c: Ctx): { country?: string; colo?: string } {
  const cf = (c.req.raw as Request & { cf?: Record<string, unknown> }).cf;
  const location: { country?: string; colo?: string } = {};
  if (typeof cf?.["country"] === "string") location.country = cf["country"];
  if (typeof cf?.["colo"] === "string") location.colo = cf["colo"];
  return location;
}

export async function evaluationContext(c: Ctx): Promise<EvaluationContext> {
  const context = bodyContext(await readContextBody(c));
  return { ...requestLocation(c), ...context };
}
