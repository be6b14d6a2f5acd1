// Errors as RFC 9457 problem details (application/problem+json). Handlers throw `ApiProblem`
// (or return `problem(...)`); app.ts turns every other failure into one too, so a client always
// gets {type, title, status, detail} and never a stack trace.

/** The `type` URIs: stable identifiers clients may switch on, documented in the OpenAPI. */
export const problemTypes = {
  badRequest: "bad-request",
  unauthorized: "unauthorized",
  forbidden: "forbidden",
  notFound: "not-found",
  methodNotAllowed: "method-not-allowed",
  preconditionFailed: "precondition-failed",
  fenced: "fenced",
  gone: "compacted",
  payloadTooLarge: "payload-too-large",
  uriTooLong: "uri-too-long",
  headerTooLarge: "header-too-large",
  unsupportedMediaType: "unsupported-media-type",
  unprocessable: "unprocessable",
  schemaViolation: "schema-violation",
  conflict: "conflict",
  insufficientStorage: "quota-exceeded",
  unavailable: "unavailable",
  notConfigured: "admin-token-not-configured",
  misconfigured: "misconfigured",
  internal: "internal",
} as const;

export type ProblemType = (typeof problemTypes)[keyof typeof problemTypes];

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};

export const problemTypeBase = "https://edgecfg.dev/problems/";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

export interface ProblemInit {
  status: number;
  type: ProblemType;
  detail: string;
  /** Extension members (RFC 9457 §3.2), e.g. currentETag, entry, retryAfter. */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Thrown anywhere below a route; rendered by app.ts's error handler. */
export class ApiProblem extends Error {
  override name = "ApiProblem";
  readonly init: ProblemInit;
  constructor(init: ProblemInit) {
    super(init.detail);
    this.init = init;
  }
}

/** Characters of a client's input echoed in a detail, at most (then "…"). */
export const echoCharsMax = 40;

/** A client's value for a detail: JSON, cut to a short prefix (a key or header may be KiBs). */
export function excerpt(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > echoCharsMax ? `${value.slice(0, echoCharsMax)}…` : value);
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > echoCharsMax ? `${text.slice(0, echoCharsMax)}…` : text;
}

/**
 * Every quoted string of a detail cut to a short prefix: details quote the client's input with
 * JSON.stringify (here and in src/store's validators), and a rejected 8 KiB key or header should
 * not come back whole.
 */
function shortenQuoted(detail: string): string {
  return detail.replace(/"(?:[^"\\]|\\.)*"/g, (quoted) => {
    if (quoted.length <= echoCharsMax + 8) return quoted;
    let text: string;
    try {
      text = JSON.parse(quoted) as string;
    } catch {
      return quoted;
    }
    return excerpt(text);
  });
}

export function problemBody(init: ProblemInit): ProblemBody {
  return {
    type: problemTypeBase + init.type,
    title: titles[init.status] ?? "Error",
    status: init.status,
    detail: shortenQuoted(init.detail),
    ...init.extensions,
  };
}

export function problem(init: ProblemInit): Response {
  const headers = new Headers(init.headers);
  headers.set("Content-Type", "application/problem+json");
  headers.set("Cache-Control", "no-store");
  return new Response(JSON.stringify(problemBody(init)), { status: init.status, headers });
}

export function badRequest(detail: string): ApiProblem {
  return new ApiProblem({ status: 400, type: problemTypes.badRequest, detail });
}

export function notFound(detail: string): ApiProblem {
  return new ApiProblem({ status: 404, type: problemTypes.notFound, detail });
}

/** 503 with both the header (seconds) and the member (seconds), as RFC 9110 §10.2.3 suggests. */
export function unavailable(detail: string, retryAfterMs: number): ApiProblem {
  const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ApiProblem({
    status: 503,
    type: problemTypes.unavailable,
    detail,
    extensions: { retryAfter },
    headers: { "Retry-After": String(retryAfter) },
  });
}
