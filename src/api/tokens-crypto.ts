// Bearer tokens: how they are made, hashed and compared. Only the SHA-256 of a minted token is
// ever stored (through a store command, so it is replicated); the token itself is shown once.

const encoder = new TextEncoder();

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Constant-time equality of a presented token with the secret. The loop runs over the presented
 * token (the caller's own, known to them), so neither the secret's characters nor its length show
 * in the time taken. Synchronous: hashing both first cost two digests per request (7 % of a
 * bundle poll's CPU in the bench profile).
 */
export function secretsEqual(presented: string, secret: string): boolean {
  if (secret.length === 0) return false;
  let diff = presented.length ^ secret.length;
  for (let i = 0; i < presented.length; i++)
    diff |= presented.charCodeAt(i) ^ secret.charCodeAt(i % secret.length);
  return diff === 0;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** Prefix of minted tokens: lets secret scanners recognise a leaked edgecfg token. */
export const tokenPrefix = "ecfg_";

export function newTokenSecret(): string {
  return tokenPrefix + base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export function newTokenId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return "tok_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Namespace globs: "*" matches any run of characters; everything else matches itself. */
export function globMatches(glob: string, namespace: string): boolean {
  const regex = new RegExp(
    "^" +
      glob
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, "\\$&"))
        .join(".*") +
      "$",
  );
  return regex.test(namespace);
}
