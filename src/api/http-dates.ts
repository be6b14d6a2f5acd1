// HTTP dates (RFC 9110 §5.6.7) for Last-Modified and If-Modified-Since.

/** The last date formatted: reads of a hot key format the same Last-Modified again and again. */
let last = { second: Number.NaN, text: "" };

export function httpDate(ms: number): string {
  const second = Math.floor(ms / 1000); // HTTP dates have whole seconds
  if (second !== last.second) last = { second, text: new Date(ms).toUTCString() };
  return last.text;
}

/** Milliseconds of an HTTP date, or null when it does not parse (the header is then ignored). */
export function parseHttpDate(value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
