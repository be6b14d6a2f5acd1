// `Idempotency-Key` on PUT, DELETE and txn: the store deduplicates, the API only validates.
import type { Ctx } from "./context.ts";
import { apiLimits } from "./limits.ts";
import { badRequest } from "./problem.ts";

export const replayedHeader = "Idempotent-Replayed";

export function idempotencyKey(c: Ctx): string | undefined {
  const key = c.req.header("Idempotency-Key");
  if (key === undefined) return undefined;
  if (
    key.length === 0 ||
    key.length > apiLimits.idempotencyKeyBytesMax ||
    !/^[\x21-\x7e]+$/.test(key)
  ) {
    throw badRequest(
      `Idempotency-Key must be 1 to ${apiLimits.idempotencyKeyBytesMax} printable ASCII characters ` +
        "without spaces, e.g. a UUID",
    );
  }
  return key;
}
