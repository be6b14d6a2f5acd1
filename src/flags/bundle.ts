// The flags of a namespace bundle as the SDK and the CLI receive it ({entries, meta}, JSON
// inline and other values as {contentType, base64}): JSON values are flags, text values string
// flags, other media types none. The server reads its stored bytes by the same rules.

export interface BundleLike {
  entries: Record<string, unknown>;
  meta?: Record<string, { contentType: string; modRevision: number }>;
}

export interface BundleFlagSource {
  name: string;
  /** The value's ETag; "" for hand-written fallback bundles, which carry no meta. */
  etag: string;
  value: unknown;
}

function encoded(value: unknown): { contentType: string; base64: string } | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (Object.keys(v).length !== 2) return undefined;
  if (typeof v.contentType !== "string" || typeof v.base64 !== "string") return undefined;
  return { contentType: v.contentType, base64: v.base64 };
}

function text(base64: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
}

export function flagSourcesOf(bundle: BundleLike): BundleFlagSource[] {
  return Object.keys(bundle.entries).flatMap((name) => {
    const value = bundle.entries[name];
    const modRevision = bundle.meta?.[name]?.modRevision;
    const etag = modRevision === undefined ? "" : `"r${modRevision}"`;
    const e = encoded(value);
    if (e === undefined) return [{ name, etag, value }];
    if (!e.contentType.toLowerCase().startsWith("text/")) return [];
    return [{ name, etag, value: text(e.base64) }];
  });
}
