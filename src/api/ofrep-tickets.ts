// Tickets for OFREP change streams. A browser's EventSource sends no Authorization header, so
// the bulk answer's stream URL carries a ticket: the namespace and an expiry, signed with
// HMAC-SHA256 under the ADMIN_TOKEN secret. It admits only to the stream, which says no more
// than that the namespace changed and its new ETag; the re-fetch it prompts needs the token.
// Expiries are whole hours, 1-2 h ahead, so the URL stays the same for an hour and providers
// do not reconnect on every re-fetch. A revoked token's ticket works until it expires.
import type { Ctx } from "./context.ts";

const hourSeconds = 3600;
const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function keyOf(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (key === undefined) {
    const raw = encoder.encode(`edgecfg ofrep events\n${secret}`);
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.clear(); // one secret at a time
    keys.set(secret, key);
  }
  return key;
}

function base64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

async function signature(secret: string, namespace: string, expires: number): Promise<string> {
  const data = encoder.encode(`${namespace}\n${expires}`);
  return base64url(await crypto.subtle.sign("HMAC", await keyOf(secret), data));
}

const tickets = new Map<string, { expires: number; ticket: string }>();

/** A ticket for `namespace`'s stream, or undefined when the deployment has no secret. */
export async function streamTicket(c: Ctx, namespace: string, nowMs: number) {
  const secret = c.env.ADMIN_TOKEN;
  if (!secret) return undefined;
  const expires = (Math.floor(nowMs / 1000 / hourSeconds) + 2) * hourSeconds;
  const known = tickets.get(namespace);
  if (known?.expires === expires) return known.ticket;
  const ticket = `${expires}.${await signature(secret, namespace, expires)}`;
  if (tickets.size >= 1024) tickets.clear();
  tickets.set(namespace, { expires, ticket });
  return ticket;
}

/** Whether `ticket` admits to `namespace`'s stream now. */
export async function ticketAdmits(c: Ctx, namespace: string, ticket: string, nowMs: number) {
  const secret = c.env.ADMIN_TOKEN;
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
  if (!secret || !m) return false;
  const expires = Number(m[1]);
  if (expires * 1000 <= nowMs) return false;
  const expected = await signature(secret, namespace, expires);
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ m[2]!.charCodeAt(i);
  return diff === 0;
}
