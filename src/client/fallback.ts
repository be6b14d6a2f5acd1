// Offline start: an app should boot with last-known config when the store is unreachable. The
// fallback is a bundle (or several) given inline, or loaded by an injected function — in Node,
// `fileFallback(path)` from "edgecfg/client/node" — so this core needs no file system.
import type { Bundle, Value } from "./types.ts";
import { bundleEntryToBody } from "./values.ts";

export type FallbackSource = Bundle | Bundle[] | { load: () => Promise<Bundle | Bundle[]> };

/** Why and from where a stale answer was served. */
export interface StaleInfo {
  /** The key or namespace asked for. */
  subject: string;
  source: "cache" | "fallback";
  /** The failure that made fresh data unavailable. */
  error: unknown;
}

export class Fallback {
  #bundles: Promise<Map<string, Bundle>> | undefined;
  constructor(readonly source: FallbackSource | undefined) {}

  /** Loaded once, on the first failure: a healthy client never touches it. */
  async bundle(namespace: string): Promise<Bundle | undefined> {
    if (!this.source) return undefined;
    // A fallback that cannot be read is treated as empty: the caller then sees the real failure.
    this.#bundles ??= this.#load(this.source).catch(() => new Map<string, Bundle>());
    return (await this.#bundles).get(namespace);
  }

  async value(key: string): Promise<Value | undefined> {
    const slash = key.indexOf("/");
    const bundle = await this.bundle(key.slice(0, slash));
    const name = key.slice(slash + 1);
    if (!bundle || !Object.hasOwn(bundle.entries, name)) return undefined;
    const { body, contentType } = bundleEntryToBody(
      bundle.entries[name],
      bundle.meta?.[name]?.contentType,
    );
    // No ETag is known for fallback data; an empty one never matches, so CAS cannot trust it.
    return { key, bytes: body, contentType, etag: "" };
  }

  async #load(source: FallbackSource): Promise<Map<string, Bundle>> {
    const loaded = "load" in source ? await source.load() : source;
    const list = Array.isArray(loaded) ? loaded : [loaded];
    return new Map(list.map((b) => [b.namespace, b]));
  }
}
