// Authorization lookups remembered per isolate for a second: a minted token by its hash, and a
// namespace's public-read flag. Without them every request with a scoped token, and every
// anonymous read of a public namespace, read the `_sys` shard linearizably: a Durable Object round
// trip even for a poll the isolate cache answers, and one Raft group serving the authorization of
// the whole deployment.
//
// What it costs: a token revoked, or a namespace made private, through another isolate stops
// working here within `ttlMs`. Through this isolate at once: a write to `_sys` here forgets
// everything remembered, and no lookup sent before that write is remembered after it.

export const authLookupLimits = {
  /** How long a lookup is trusted, from when it was sent, in ms. */
  ttlMs: 1_000,
  /** Most lookups remembered per deployment and isolate (oldest first out beyond). */
  entriesMax: 10_000,
} as const;

interface Remembered {
  value: unknown;
  sentAtMs: number;
}

interface Lookups {
  entries: Map<string, Remembered>;
  /** Bumped by every `_sys` write through this isolate: lookups sent before it are not kept. */
  generation: number;
}

/** Per bindings object: tests run several deployments in one isolate, each with its own `_sys`. */
const byEnv = new WeakMap<object, Lookups>();

function lookupsOf(env: object): Lookups {
  let l = byEnv.get(env);
  if (l === undefined) byEnv.set(env, (l = { entries: new Map(), generation: 0 }));
  return l;
}

/** `load()`'s answer for `key`, from memory while younger than ttlMs. */
export async function rememberedLookup<T>(
  env: object,
  key: string,
  load: () => Promise<T>,
  nowMs: () => number = Date.now,
): Promise<T> {
  const l = lookupsOf(env);
  const known = l.entries.get(key);
  const sentAtMs = nowMs();
  if (known !== undefined && sentAtMs - known.sentAtMs < authLookupLimits.ttlMs)
    return known.value as T;
  const generation = l.generation;
  const value = await load();
  if (l.generation === generation) {
    l.entries.delete(key); // re-inserted last, so the first entries are the oldest
    l.entries.set(key, { value, sentAtMs });
    for (const oldest of l.entries.keys()) {
      if (l.entries.size <= authLookupLimits.entriesMax) break;
      l.entries.delete(oldest);
    }
  }
  return value;
}

/** A write to `_sys` through this isolate (tokens, namespace settings): forget every lookup. */
export function forgetLookups(env: object): void {
  const l = lookupsOf(env);
  l.generation += 1;
  l.entries.clear();
}
