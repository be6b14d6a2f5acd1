// What every operation of a client shares: the HTTP layer, the ETag caches, the offline fallback.
import type { BackoffOptions } from "./backoff.ts";
import type { EtagCache } from "./cache.ts";
import type { Fallback, StaleInfo } from "./fallback.ts";
import type { Http } from "./http.ts";
import type { Bundle, Value } from "./types.ts";

export interface ClientContext {
  http: Http;
  values: EtagCache<Value>;
  bundles: EtagCache<Bundle>;
  fallback: Fallback;
  backoff: BackoffOptions;
  onStale: ((info: StaleInfo) => void) | undefined;
}
