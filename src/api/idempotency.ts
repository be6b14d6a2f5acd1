// `Idempotency-Key` on PUT, DELETE and txn: the store deduplicates, the API validates the key and
// scopes it to the caller. Two callers that happen to pick the same key (two deploy scripts both
// sending "deploy-1") are two requests: the store sees "<principal>/<key>", so another token
// never gets the first caller's answer, nor its 422 for a different request.
import { boundedHeader } from "./headers.ts";
import type { Ctx } from "./context.ts";
import { apiLimits } from "./limits.ts";
import { badRequest } from "./problem.ts";
import { sha256Hex } from "./tokens-crypto.ts";

export const replayedHeader = "Idempotent-Replayed";

/** Who the key belongs to; authorize() has resolved the caller of every write by now. */
function ownerOf(c: Ctx): string {
  const principal = c.get("principal");
  if (principal === undefined) throw new Error("idempotencyKey: the caller is not resolved yet");
  return principal.type === "token" ? principal.record.id : principal.type;
}

/** The request's Idempotency-Key as the store keeps it (call after authorize), or undefined. */
export async function idempotencyKey(c: Ctx): Promise<string | undefined> {
  const key = boundedHeader(c, "Idempotency-Key");
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
  const scoped = `${ownerOf(c)}/${key}`;
  // Within the store's bound as it is; a longer one by its hash ("#" cannot follow an owner id).
  if (scoped.length <= apiLimits.idempotencyKeyBytesMax) return scoped;
  return `${ownerOf(c)}#${await sha256Hex(key)}`;
}
