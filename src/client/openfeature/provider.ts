// EdgecfgProvider: an OpenFeature server provider that evaluates in process. It reads the
// namespace's bundle (one revision: a consistent snapshot), evaluates flagd definitions with
// flagd's core and static values as themselves, and keeps the bundle current over the watch
// stream: PROVIDER_CONFIGURATION_CHANGED with flagsChanged on a change, PROVIDER_STALE when the
// stream is lost (answers go on from the last bundle), PROVIDER_READY when it is back.
// initialize() returns once the first bundle is read, so the SDK's READY (or ERROR, FATAL for
// 401/403) comes before any evaluation.
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
} from "@openfeature/server-sdk";
import { createClient, type EdgecfgClient } from "../client.ts";
import { ForbiddenError, UnauthorizedError } from "../errors.ts";
import type { FallbackSource } from "../fallback.ts";
import type { FetchLike } from "../http.ts";
import { changedFlags, flagsOf, type BundleFlags } from "./bundle-flags.ts";
import { runChangeStream } from "./change-stream.ts";
import { resolution, type FlagType } from "./resolve.ts";

export interface EdgecfgProviderOptions {
  /** Base URL of the store, e.g. "http://127.0.0.1:8787". */
  url: string;
  /** The namespace whose entries are the flags. */
  namespace: string;
  /** A token with read scope; omit for a public-read namespace. */
  token?: string;
  fetch?: FetchLike;
  /** Bundles to answer from (reason STALE) when the store is unreachable at start. */
  fallback?: FallbackSource;
  /** Keep the flags current over the watch stream (default true). */
  watch?: boolean;
}

export class EdgecfgProvider implements Provider {
  readonly metadata = { name: "edgecfg" } as const;
  readonly runsOn = "server" as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly #options: EdgecfgProviderOptions;
  readonly #client: EdgecfgClient;
  readonly #stop = new AbortController();
  #flags: BundleFlags | undefined;
  #fromFallback = false;
  #lastFromFallback = false;
  #lost = false;
  /** Losses of the stream so far, and how many there had been when it last connected. */
  #losses = 0;
  #connection = 0;
  #reconnected = false;
  #refreshing: Promise<void> | undefined;
  #again = false;

  constructor(options: EdgecfgProviderOptions) {
    this.#options = options;
    this.#client = createClient({
      url: options.url,
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.fallback === undefined ? {} : { fallback: options.fallback }),
      onStale: (info) => {
        if (info.source === "fallback") this.#lastFromFallback = true;
      },
    });
  }

  async initialize(): Promise<void> {
    try {
      await this.#read();
    } catch (error) {
      if (error instanceof UnauthorizedError || error instanceof ForbiddenError)
        throw new ProviderFatalError(`edgecfg refused the token: ${error.message}`);
      this.#watch();
      throw new GeneralError(`edgecfg is unreachable: ${(error as Error).message}`);
    }
    this.#watch();
  }

  async onClose(): Promise<void> {
    this.#stop.abort();
  }

  resolveBooleanEvaluation(key: string, value: boolean, context: EvaluationContext) {
    return this.#resolve(key, "boolean", value, context);
  }
  resolveStringEvaluation(key: string, value: string, context: EvaluationContext) {
    return this.#resolve(key, "string", value, context);
  }
  resolveNumberEvaluation(key: string, value: number, context: EvaluationContext) {
    return this.#resolve(key, "number", value, context);
  }
  resolveObjectEvaluation<T extends JsonValue>(key: string, value: T, context: EvaluationContext) {
    return this.#resolve(key, "object", value, context);
  }

  async #resolve<T extends boolean | string | number | JsonValue>(
    key: string,
    type: FlagType,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    if (this.#flags === undefined) {
      const errorMessage = "edgecfg's flags are not loaded yet";
      return {
        value: defaultValue,
        reason: "ERROR",
        errorCode: ErrorCode.PROVIDER_NOT_READY,
        errorMessage,
      };
    }
    const evaluation = this.#flags.set.evaluate(key, context as Record<string, unknown>);
    return resolution(evaluation, type, defaultValue, this.#fromFallback);
  }

  /** Reads the bundle (revalidated by ETag) and says which flags changed. */
  async #read(): Promise<string[]> {
    this.#lastFromFallback = false;
    const bundle = await this.#client.bundle(this.#options.namespace);
    const next = flagsOf(bundle);
    const changed = this.#flags?.revision === next.revision ? [] : changedFlags(this.#flags, next);
    this.#flags = next;
    this.#fromFallback = this.#lastFromFallback;
    return changed;
  }

  /** One re-read at a time; signals during one cause exactly one more. */
  #refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        // Only a read begun after the stream reconnected ends a loss: one begun before it
        // may predate changes the stream missed.
        const connection = this.#reconnected ? this.#connection : -1;
        this.#reconnected = false;
        const wasFallback = this.#fromFallback;
        const changed = await this.#read().catch(() => undefined);
        if (changed === undefined) continue;
        // Recovered if no loss came after the connection this read followed.
        const reconnected = this.#lost && connection === this.#losses;
        if (reconnected) this.#lost = false;
        if (reconnected || (wasFallback && !this.#fromFallback && !this.#lost))
          this.events.emit(ProviderEvents.Ready);
        if (changed.length > 0)
          this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: changed });
      } while (this.#again && !this.#stop.signal.aborted);
    })().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  #watch(): void {
    if (this.#options.watch === false) return;
    const o = this.#options;
    void runChangeStream(
      {
        url: o.url,
        namespace: o.namespace,
        ...(o.token === undefined ? {} : { token: o.token }),
        fetch: o.fetch ?? ((input, init) => globalThis.fetch(input, init)),
        // Changes made between the first read and the connection: one re-read closes the gap.
        onConnected: () => {
          this.#connection = this.#losses;
          this.#reconnected = true;
          void this.#refresh();
        },
        onChange: () => void this.#refresh(),
        onLost: (error, fatal) => this.#onLost(error, fatal),
      },
      this.#stop.signal,
    );
  }

  #onLost(error: unknown, fatal: boolean): void {
    if (fatal) {
      const message = `edgecfg refused the token: ${(error as Error).message}`;
      this.events.emit(ProviderEvents.Error, { errorCode: ErrorCode.PROVIDER_FATAL, message });
      return;
    }
    this.#losses += 1;
    if (this.#lost) return;
    this.#lost = true;
    this.events.emit(ProviderEvents.Stale, { message: "edgecfg's watch stream was lost" });
  }
}
