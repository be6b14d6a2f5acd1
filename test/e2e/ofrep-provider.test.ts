// The official OpenFeature OFREP server provider (@openfeature/ofrep-provider with
// @openfeature/server-sdk), unchanged, against the store served as `npm start` serves it: its
// base URL is the namespace's, every evaluation a POST of OFREP single evaluation.
import { OFREPProvider } from "@openfeature/ofrep-provider";
import { OpenFeature } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const url = inject("e2eUrl");
const admin = inject("e2eAdminToken");
const ns = `ofrep-e2e-${Date.now().toString(36)}`;

async function put(name: string, value: unknown): Promise<void> {
  const res = await fetch(`${url}/v1/kv/${ns}/${name}`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" },
    body: JSON.stringify(value),
  });
  if (!res.ok) throw new Error(`put ${name}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  await put("checkout", {
    state: "ENABLED",
    defaultVariant: "classic",
    variants: { classic: "classic", onepage: "onepage" },
    targeting: { if: [{ ends_with: [{ var: "email" }, "@example.com"] }, "onepage", null] },
  });
  await put("max-items", 20);
  await put("banner", {
    state: "ENABLED",
    defaultVariant: "off",
    variants: { off: false, on: true },
    targeting: {
      fractional: [
        ["on", 50],
        ["off", 50],
      ],
    },
  });
  const headers: [string, string][] = [["Authorization", `Bearer ${admin}`]];
  await OpenFeature.setProviderAndWait(
    "edgecfg",
    new OFREPProvider({ baseUrl: `${url}/v1/ns/${ns}`, headers }),
  );
});

afterAll(() => OpenFeature.close());

describe("@openfeature/ofrep-provider against edgecfg", () => {
  const client = () => OpenFeature.getClient("edgecfg");

  it("evaluates a flagd definition with targeting from the context", async () => {
    const mine = await client().getStringDetails("checkout", "none", {
      targetingKey: "u1",
      email: "ann@example.com",
    });
    expect(mine).toMatchObject({ value: "onepage", reason: "TARGETING_MATCH", variant: "onepage" });
    const other = await client().getStringDetails("checkout", "none", { targetingKey: "u2" });
    expect(other).toMatchObject({ value: "classic", reason: "DEFAULT", variant: "classic" });
  });

  it("evaluates a static JSON value (reason STATIC, variant its ETag)", async () => {
    const details = await client().getNumberDetails("max-items", 0, { targetingKey: "u" });
    expect(details).toMatchObject({ value: 20, reason: "STATIC" });
    expect(details.variant).toMatch(/^"r\d+"$/);
  });

  it("splits by targetingKey like flagd (fractional), stably", async () => {
    const seen = new Set<boolean>();
    for (let i = 0; i < 24; i++) {
      const ctx = { targetingKey: `user-${i}` };
      const first = await client().getBooleanValue("banner", false, ctx);
      expect(await client().getBooleanValue("banner", false, ctx)).toBe(first);
      seen.add(first);
    }
    expect(seen.size).toBe(2);
  });

  it("a missing flag and a wrong type fall back to the code default with the error", async () => {
    const missing = await client().getBooleanDetails("no-such-flag", true, { targetingKey: "u" });
    expect(missing).toMatchObject({ value: true, reason: "ERROR", errorCode: "FLAG_NOT_FOUND" });
    const wrong = await client().getBooleanDetails("max-items", false, { targetingKey: "u" });
    expect(wrong).toMatchObject({ value: false, reason: "ERROR", errorCode: "TYPE_MISMATCH" });
  });

  it("a token without read scope gets the code default (the provider sees 401)", async () => {
    await OpenFeature.setProviderAndWait(
      "anonymous",
      new OFREPProvider({ baseUrl: `${url}/v1/ns/${ns}` }),
    );
    const details = await OpenFeature.getClient("anonymous").getNumberDetails("max-items", 7);
    expect(details).toMatchObject({ value: 7, reason: "ERROR" });
  });
});
