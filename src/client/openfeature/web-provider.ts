// EdgecfgWebProvider: an OpenFeature web (static context) provider. The store evaluates: one
// OFREP bulk evaluation per context (so targeting rules never reach the browser, and the
// request's country and colo apply), kept current over the answer's event stream (SSE,
// refetchEvaluation → a conditional re-fetch with the notified ETag). A context change re-fetches
// without If-None-Match, since the bulk ETag is the namespace revision, not the context's.
// initialize() returns once the first answer is in: READY, ERROR, or FATAL for 401/403.
import {
  ErrorCode,
  GeneralError,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from "@openfeature/web-sdk";
import type { Evaluation } from "../../flags/index.ts";
import type { FetchLike } from "../http.ts";
import { resolution, type FlagType } from "./resolve.ts";

export interface EdgecfgWebProviderOptions {
  /** Base URL of the store, e.g. "https://config.example.com". */
  url: string;
  namespace: string;
  /** A read-only token; omit for a public-read namespace. */
  token?: string;
  fetch?: FetchLike;
  /** Follow the answer's change stream (default true; needs a global EventSource). */
  push?: boolean;
  /** The EventSource class, where there is no global one (tests, some runtimes). */
  eventSource?: typeof EventSource;
}

/** EventSource.CLOSED, without referring to a global that may not exist. */
const closedState = 2;
const renewDelayMs = 1_000;
const renewDelayMsMax = 30_000;

type Stream = { type: string; endpoint?: { requestUri: string; origin?: string }; url?: string };
type Bulk = { flags: Evaluation[]; eventStreams?: Stream[] };

export class EdgecfgWebProvider implements Provider {
  readonly metadata = { name: "edgecfg-web" } as const;
  readonly runsOn = "client" as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly #o: EdgecfgWebProviderOptions;
  #flags = new Map<string, Evaluation>();
  #etag: string | null = null;
  #context: EvaluationContext = {};
  #source: EventSource | undefined;
  #generation = 0;
  #loaded = false;
  #closed = false;

  constructor(options: EdgecfgWebProviderOptions) {
    this.#o = options;
  }

  async initialize(context: EvaluationContext = {}): Promise<void> {
    this.#context = context;
    const streams = await this.#fetch(false);
    this.#connect(streams);
  }

  async onContextChange(_old: EvaluationContext, next: EvaluationContext): Promise<void> {
    this.#context = next;
    await this.#fetch(false);
  }

  async onClose(): Promise<void> {
    this.#closed = true;
    this.#source?.close();
    this.#source = undefined;
  }

  resolveBooleanEvaluation(key: string, value: boolean) {
    return this.#resolve(key, "boolean", value);
  }
  resolveStringEvaluation(key: string, value: string) {
    return this.#resolve(key, "string", value);
  }
  resolveNumberEvaluation(key: string, value: number) {
    return this.#resolve(key, "number", value);
  }
  resolveObjectEvaluation<T extends JsonValue>(key: string, value: T) {
    return this.#resolve(key, "object", value);
  }

  #resolve<T extends boolean | string | number | JsonValue>(
    key: string,
    type: FlagType,
    defaultValue: T,
  ): ResolutionDetails<T> {
    const evaluation = this.#flags.get(key) ?? {
      key,
      errorCode: ErrorCode.FLAG_NOT_FOUND,
      errorDetails: `flag '${key}' was not found`,
    };
    return resolution(evaluation as Evaluation, type, defaultValue, false);
  }

  /** One bulk evaluation; `conditional` sends the ETag held. Returns the answer's streams. */
  async #fetch(conditional: boolean, notifiedETag?: string): Promise<Stream[] | undefined> {
    const generation = ++this.#generation;
    const o = this.#o;
    const query = notifiedETag ? `?flagConfigEtag=${encodeURIComponent(notifiedETag)}` : "";
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (conditional && this.#etag) headers["if-none-match"] = this.#etag;
    const url = `${o.url.replace(/\/$/, "")}/v1/ns/${o.namespace}/ofrep/v1/evaluate/flags${query}`;
    const body = JSON.stringify({ context: this.#context });
    const res = await (o.fetch ?? fetch)(url, { method: "POST", headers, body });
    if (res.status === 401 || res.status === 403)
      throw new ProviderFatalError(`edgecfg refused the token (${res.status})`);
    if (res.status === 304) return undefined;
    if (res.status !== 200) throw new GeneralError(`edgecfg answered ${res.status}`);
    const bulk = (await res.json()) as Bulk;
    if (generation !== this.#generation) return undefined; // a newer context's fetch won
    this.#etag = res.headers.get("etag");
    this.#apply(bulk.flags);
    return bulk.eventStreams;
  }

  #apply(flags: Evaluation[]): void {
    const next = new Map(flags.map((f) => [f.key, f]));
    const changed = [...new Set([...next.keys(), ...this.#flags.keys()])].filter(
      (k) => JSON.stringify(next.get(k)) !== JSON.stringify(this.#flags.get(k)),
    );
    const first = !this.#loaded;
    this.#loaded = true;
    this.#flags = next;
    if (changed.length > 0 && !first)
      this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: changed.sort() });
  }

  #connect(streams: Stream[] | undefined, wasLost = false): void {
    const stream = streams?.find((s) => s.type === "sse");
    const Source =
      this.#o.eventSource ?? (globalThis as { EventSource?: typeof EventSource }).EventSource;
    if (this.#o.push === false || !stream || Source === undefined || this.#closed) return;
    const url =
      stream.url ??
      new URL(stream.endpoint!.requestUri, stream.endpoint!.origin ?? this.#o.url).href;
    const source = new Source(url);
    this.#source = source;
    let lost = wasLost;
    source.addEventListener("message", (event: Event) => {
      const data = JSON.parse((event as MessageEvent).data as string) as {
        type?: string;
        etag?: string;
      };
      if (data.type === "refetchEvaluation") void this.#refetch(data.etag);
    });
    source.addEventListener("error", () => {
      if (!lost) this.events.emit(ProviderEvents.Stale, { message: "the change stream was lost" });
      lost = true;
      // CLOSED: the browser gave up on this URL (its ticket expired: 401); a new bulk evaluation
      // names a new one.
      if (source.readyState === closedState) this.#renew(source, 0);
    });
    source.addEventListener("open", () => {
      if (!lost) return;
      lost = false;
      this.events.emit(ProviderEvents.Ready);
      void this.#refetch(undefined);
    });
  }

  /** Replaces a stream the browser gave up on: a new bulk evaluation, then its stream. */
  #renew(old: EventSource, attempt: number): void {
    old.close();
    if (this.#source !== old || this.#closed) return;
    setTimeout(
      () => {
        this.#fetch(false).then(
          (streams) => this.#source === old && this.#connect(streams, true),
          () => this.#renew(old, attempt + 1),
        );
      },
      Math.min(renewDelayMsMax, renewDelayMs * 2 ** attempt),
    );
  }

  async #refetch(etag: string | undefined): Promise<void> {
    await this.#fetch(true, etag).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.events.emit(ProviderEvents.Error, { message });
    });
  }
}
