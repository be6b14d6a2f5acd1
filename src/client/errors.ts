// Typed errors built from the API's application/problem+json bodies (RFC 9457), so callers can
// `catch (e) { if (e instanceof ConflictError) … }` instead of comparing status codes.
import type { Entry } from "./types.ts";

/** The fields of a problem+json body the SDK understands; servers may add more. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  currentETag?: string;
  entry?: Entry | null;
  retryAfter?: number;
  [extra: string]: unknown;
}

export class EdgecfgError extends Error {
  override name = "EdgecfgError";
  /** HTTP status, or 0 when no response arrived (network failure, timeout, abort). */
  readonly status: number;
  /** The problem type URI, or "about:blank". */
  readonly type: string;
  readonly detail: string;
  readonly problem: Problem;

  constructor(status: number, problem: Problem, options?: { cause?: unknown }) {
    super(problem.detail || problem.title || `HTTP ${status}`, options);
    this.status = status;
    this.type = problem.type ?? "about:blank";
    this.detail = problem.detail ?? problem.title ?? "";
    this.problem = problem;
  }
}

/** 412: the precondition (If-Match / If-None-Match / a CAS) did not hold. */
export class ConflictError extends EdgecfgError {
  override name = "ConflictError";
  /** The current ETag of the key, or undefined when the key is absent. */
  readonly currentETag: string | undefined;
  /** The key's current entry, or null when it is absent. */
  readonly current: Entry | null;
  constructor(status: number, problem: Problem) {
    super(status, problem);
    this.currentETag = problem.currentETag ?? undefined;
    this.current = problem.entry ?? null;
  }
}

export class NotFoundError extends EdgecfgError {
  override name = "NotFoundError";
}
/** 410: an old revision asked for is no longer retained. */
export class GoneError extends EdgecfgError {
  override name = "GoneError";
}
export class UnauthorizedError extends EdgecfgError {
  override name = "UnauthorizedError";
}
export class ForbiddenError extends EdgecfgError {
  override name = "ForbiddenError";
}
/** 413 (value too large) or 507 (a shard quota). */
export class TooLargeError extends EdgecfgError {
  override name = "TooLargeError";
}
/** 400 / 422: the request itself is wrong; retrying it will not help. */
export class ValidationError extends EdgecfgError {
  override name = "ValidationError";
}

/** 503 / 502 / 504 or the store could not be reached at all (status 0). */
export class UnavailableError extends EdgecfgError {
  override name = "UnavailableError";
  /** Seconds to wait before retrying, when the server said. */
  readonly retryAfter: number | undefined;
  constructor(
    status: number,
    problem: Problem,
    options?: { cause?: unknown; retryAfter?: number },
  ) {
    super(status, problem, options);
    this.retryAfter = options?.retryAfter ?? problem.retryAfter;
  }
}

/** The call took longer than its `timeoutMs`. */
export class TimeoutError extends UnavailableError {
  override name = "TimeoutError";
}

/** Parses `Retry-After` as seconds (delta or HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const dateMs = Date.parse(header);
  return Number.isNaN(dateMs) ? undefined : Math.max(0, Math.ceil((dateMs - nowMs) / 1000));
}

/** Maps a status and its problem to the matching error class. */
export function errorFromProblem(
  status: number,
  problem: Problem,
  retryAfter?: number,
): EdgecfgError {
  switch (status) {
    case 400:
    case 422:
      return new ValidationError(status, problem);
    case 401:
      return new UnauthorizedError(status, problem);
    case 403:
      return new ForbiddenError(status, problem);
    case 404:
      return new NotFoundError(status, problem);
    case 412:
      return new ConflictError(status, problem);
    case 410:
      return new GoneError(status, problem);
    case 413:
    case 507:
      return new TooLargeError(status, problem);
    case 429:
    case 502:
    case 503:
    case 504:
      return new UnavailableError(status, problem, retryAfter === undefined ? {} : { retryAfter });
    default:
      return new EdgecfgError(status, problem);
  }
}

/** Reads an error response: problem+json when the server sent it, its text otherwise. */
export async function errorFromResponse(res: Response): Promise<EdgecfgError> {
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  let problem: Problem = { status: res.status, title: res.statusText };
  const text = await res.text().catch(() => "");
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object") problem = parsed as Problem;
  } catch {
    if (text) problem = { ...problem, detail: text.slice(0, 500) };
  }
  return errorFromProblem(res.status, problem, retryAfter);
}

/** True for errors worth retrying: the store was unreachable, busy, or electing a leader. */
export function isRetryable(error: unknown): boolean {
  return error instanceof UnavailableError;
}
