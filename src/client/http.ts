// The one place that talks HTTP: base URL, auth, consistency tokens, deadlines, abort signals,
// typed errors and retries of transient failures. Every SDK call goes through `send` (a whole
// request and its body under one deadline) or `open` (a stream: the deadline covers connecting).
import { backoffDelayMs, sleep, type BackoffOptions } from "./backoff.ts";
import { ConsistencyTokens } from "./consistency.ts";
import {
  EdgecfgError,
  TimeoutError,
  UnavailableError,
  errorFromResponse,
  isRetryable,
} from "./errors.ts";

export type FetchLike = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

export interface HttpConfig {
  baseUrl: string;
  token: string | undefined;
  fetch: FetchLike;
  /** Deadline of one call, retries included. */
  timeoutMs: number;
  /** Tries of one call when the store is unavailable (network error, 502/503/504/429). */
  attemptsMax: number;
  backoff: BackoffOptions;
  /** X-Edgecfg-Reason of every write, unless a call gives its own. */
  reason?: string | undefined;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** Why (writes only): sent as X-Edgecfg-Reason, recorded with the revision (GET /v1/audit). */
  reason?: string;
}

export interface HttpRequest extends CallOptions {
  method: "GET" | "PUT" | "POST" | "DELETE";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  body?: BodyInit;
  /** The namespace this request is about: its consistency token is tracked and, for reads, sent. */
  namespace?: string;
  /** More namespaces the answer's token covers (a txn across namespaces): tracked for each. */
  alsoNamespaces?: readonly string[];
  /** Statuses other than 2xx that are answers, not errors (e.g. 304). */
  expect?: number[];
  /** False for calls that must not be repeated (token minting: the server does not deduplicate it;
   *  other writes carry an Idempotency-Key and are safe to repeat). */
  retry?: boolean;
}

const revisionHeader = "x-edgecfg-revision";
const reasonHeader = "x-edgecfg-reason";

/**
 * Text as header bytes: UTF-8, one character per byte. Fetch takes header values as byte strings
 * (a character above U+00FF is a TypeError), and the server decodes the bytes as UTF-8.
 */
function headerBytes(text: string): string {
  if (!/[^\x00-\x7f]/.test(text)) return text;
  let out = "";
  for (const b of new TextEncoder().encode(text)) out += String.fromCharCode(b);
  return out;
}
const minRevisionHeader = "x-edgecfg-min-revision";

export class Http {
  readonly tokens = new ConsistencyTokens();
  constructor(readonly config: HttpConfig) {}

  /** Performs a request and hands the response to `read` within the same deadline. */
  async send<T>(req: HttpRequest, read: (res: Response) => Promise<T>): Promise<T> {
    const deadline = new Deadline(req.timeoutMs ?? this.config.timeoutMs, req.signal);
    try {
      return await this.#withRetries(req, deadline, async (signal) =>
        readBody(read, await this.#once(req, signal), signal),
      );
    } finally {
      deadline.dispose();
    }
  }

  /** Opens a streaming response; the deadline covers only the wait for its headers. */
  async open(req: HttpRequest): Promise<Response> {
    const deadline = new Deadline(req.timeoutMs ?? this.config.timeoutMs, req.signal);
    try {
      // The stream must outlive the deadline, so it is bound to the caller's signal alone.
      return await this.#withRetries(req, deadline, (signal) =>
        raceSignal(this.#once(req, req.signal), signal),
      );
    } finally {
      deadline.dispose();
    }
  }

  async #withRetries<T>(
    req: HttpRequest,
    deadline: Deadline,
    attempt: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const attemptsMax = req.retry === false ? 1 : Math.max(1, this.config.attemptsMax);
    for (let n = 0; ; n++) {
      try {
        return await attempt(deadline.signal);
      } catch (error) {
        const failure = deadline.explain(error);
        if (n + 1 >= attemptsMax || !isRetryable(failure) || deadline.signal.aborted) throw failure;
        const hintMs =
          failure instanceof UnavailableError && failure.retryAfter !== undefined
            ? failure.retryAfter * 1000
            : 0;
        // A server that asks for a longer pause than the deadline leaves (e.g. a deployment
        // without ADMIN_TOKEN says one hour) gets its answer passed on now, not after a wait.
        if (hintMs >= deadline.remainingMs()) throw failure;
        await sleep(
          Math.max(hintMs, backoffDelayMs(n, this.config.backoff)),
          deadline.signal,
        ).catch((e: unknown) => {
          throw deadline.explain(e);
        });
      }
    }
  }

  async #once(req: HttpRequest, signal: AbortSignal | undefined): Promise<Response> {
    const init: RequestInit = { method: req.method, headers: this.#headers(req) };
    if (signal) init.signal = signal;
    if (req.body !== undefined) init.body = req.body;
    let res: Response;
    try {
      res = await this.config.fetch(this.url(req.path, req.query), init);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new UnavailableError(
        0,
        { title: "Store unreachable", detail: describe(error) },
        { cause: error },
      );
    }
    if (req.namespace) this.tokens.observe(req.namespace, res.headers.get(revisionHeader));
    for (const n of req.alsoNamespaces ?? [])
      this.tokens.observe(n, res.headers.get(revisionHeader));
    if ((res.status >= 200 && res.status < 300) || req.expect?.includes(res.status)) return res;
    throw await errorFromResponse(res);
  }

  #headers(req: HttpRequest): Headers {
    const headers = new Headers(req.headers);
    if (this.config.token && !headers.has("authorization"))
      headers.set("authorization", `Bearer ${this.config.token}`);
    const minRevision = req.namespace ? this.tokens.get(req.namespace) : undefined;
    if (req.method === "GET" && minRevision) headers.set(minRevisionHeader, minRevision);
    const reason = req.reason ?? this.config.reason;
    if (req.method !== "GET" && reason !== undefined && !headers.has(reasonHeader))
      headers.set(reasonHeader, headerBytes(reason));
    return headers;
  }

  url(path: string, query?: HttpRequest["query"]): string {
    const url = new URL(this.config.baseUrl.replace(/\/+$/, "") + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== false)
        url.searchParams.set(name, value === true ? "true" : String(value));
    }
    return url.toString();
  }
}

/** Reads a body; a connection that breaks meanwhile (fetch says TypeError) is as retryable as one
 *  that never connected. */
async function readBody<T>(
  read: (res: Response) => Promise<T>,
  res: Response,
  signal: AbortSignal,
): Promise<T> {
  try {
    return await read(res);
  } catch (error) {
    if (error instanceof TypeError && !signal.aborted) {
      throw new UnavailableError(
        0,
        { title: "Connection lost", detail: describe(error) },
        { cause: error },
      );
    }
    throw error;
  }
}

/** A call's deadline joined with the caller's signal, as one signal for fetch. */
class Deadline {
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #unlink: () => void;
  readonly #startMs = Date.now();

  constructor(
    readonly timeoutMs: number,
    readonly callerSignal: AbortSignal | undefined,
  ) {
    const onAbort = (): void => this.#controller.abort(callerSignal?.reason);
    if (callerSignal?.aborted) onAbort();
    callerSignal?.addEventListener("abort", onAbort, { once: true });
    this.#unlink = () => callerSignal?.removeEventListener("abort", onAbort);
    this.#timer = setTimeout(() => {
      const detail = `no answer within ${timeoutMs} ms; raise timeoutMs or check that the store is reachable`;
      this.#controller.abort(new TimeoutError(0, { title: "Timed out", detail }));
    }, timeoutMs);
  }

  remainingMs(): number {
    return this.timeoutMs - (Date.now() - this.#startMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** After an abort, the reason (the caller's, or a TimeoutError) is the real error. */
  explain(error: unknown): unknown {
    return this.#controller.signal.aborted ? this.#controller.signal.reason : error;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#unlink();
  }
}

/** Rejects as soon as `signal` aborts, without cancelling `promise`'s own work. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason);
      // A response that arrives after the deadline is nobody's: release its connection.
      promise.then(
        (res) => (res as { body?: ReadableStream | null }).body?.cancel().catch(() => {}),
        () => {},
      );
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener("abort", onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener("abort", onAbort), reject(error)),
    );
  });
}

function describe(error: unknown): string {
  if (error instanceof EdgecfgError) return error.detail;
  const cause =
    error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return error instanceof Error ? error.message + cause : String(error);
}

/** The per-call options the HTTP layer takes. */
export function call(options: CallOptions): CallOptions {
  const out: CallOptions = {};
  if (options.signal) out.signal = options.signal;
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  if (options.reason !== undefined) out.reason = options.reason;
  return out;
}
