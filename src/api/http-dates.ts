// HTTP dates (RFC 9110 §5.6.7) for Last-Modified and If-Modified-Since.

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** Milliseconds of an HTTP date, or null when it does not parse (the header is then ignored). */
export function parseHttpDate(value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
