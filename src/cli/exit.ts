// Exit codes are part of the CLI's contract with deploy scripts; each error also gets a message
// that says what to do next.
import {
  ConflictError,
  EdgecfgError,
  ForbiddenError,
  NotFoundError,
  TimeoutError,
  UnauthorizedError,
  UnavailableError,
} from "../client/index.ts";

export const exitCodes = {
  ok: 0,
  error: 1,
  usage: 2,
  conflict: 3,
  notFound: 4,
  interrupted: 130,
} as const;

export const exitCodesHelp = `Exit codes:
  0  success
  1  error (the store refused the request or could not be reached)
  2  usage error (unknown command, missing or bad argument)
  3  compare-and-set conflict (--if-match / --create-only / txn compare / import race / stale plan)
  4  not found`;

/** A mistake in how the CLI was called: exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Ends a command that printed its result with a non-zero exit code (e.g. a txn whose compares failed). */
export class ExitError extends Error {
  override name = "ExitError";
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof ExitError) return error.exitCode;
  if (error instanceof UsageError) return exitCodes.usage;
  if (error instanceof ConflictError) return exitCodes.conflict;
  if (error instanceof NotFoundError) return exitCodes.notFound;
  return exitCodes.error;
}

/** One or two lines: what went wrong, then what to do about it. */
export function describeError(error: unknown, url: string): string {
  if (error instanceof UsageError) return `${error.message}\n(see --help)`;
  if (!(error instanceof EdgecfgError))
    return error instanceof Error ? error.message : String(error);
  const what = error.detail || error.message;
  const hint = hintFor(error, url);
  return hint ? `${what}\n${hint}` : what;
}

function hintFor(error: EdgecfgError, url: string): string | undefined {
  if (error instanceof UnauthorizedError) {
    return (
      "hint: set EDGECFG_TOKEN or pass --token; for local dev the token is dev-admin-token " +
      "(an admin sees which tokens exist and expired with `edgecfg token list`)"
    );
  }
  if (error instanceof ForbiddenError) {
    return "hint: this token's scope does not cover that; ask an admin for one (edgecfg token create --ns NS --scope read,write)";
  }
  if (error instanceof ConflictError) {
    const current = error.currentETag ? ` (its ETag is now ${error.currentETag})` : "";
    return `hint: the key changed since it was read${current}; read it again (edgecfg kv get KEY --json) and retry with the new --if-match`;
  }
  if (error instanceof TimeoutError || (error instanceof UnavailableError && error.status === 0)) {
    return (
      `hint: is the store running at ${url}? Start one locally with \`npm start\`, or set EDGECFG_URL / ` +
      "pass --url; if it is just slow, give it longer with --timeout <ms> (default 30000)"
    );
  }
  if (error instanceof UnavailableError && error.retryAfter !== undefined) {
    return `hint: the store asks to retry in ${error.retryAfter} s`;
  }
  return undefined;
}

/** The error as JSON for --json callers (on stderr, so stdout stays the command's result). */
export function errorJson(error: unknown, url: string): string {
  const code = exitCodeFor(error);
  if (error instanceof EdgecfgError) {
    return JSON.stringify({
      error: {
        ...error.problem,
        status: error.status,
        type: error.type,
        detail: error.detail,
        exitCode: code,
        message: describeError(error, url),
      },
    });
  }
  return JSON.stringify({ error: { message: describeError(error, url), exitCode: code } });
}
