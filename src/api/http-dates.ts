// HTTP dates (RFC 9110 §5.6.7) for Last-Modified and If-Modified-Since.

/** Dates formatted lately, by second: reads of hot keys format the same Last-Modified again and again. */
const formatted = new Map<number, string>();
const formattedMax = 256;

export function httpDate(ms: number): string {
  const second = Math.floor(ms / 1000); // HTTP dates have whole seconds
  let text = formatted.get(second);
  if (text === undefined) {
    if (formatted.size >= formattedMax) formatted.clear();
    formatted.set(second, (text = new Date(ms).toUTCString()));
  }
  return text;
}

/** Milliseconds of an HTTP date, or null when it does not parse (the header is then ignored). */
export function parseHttpDate(value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
