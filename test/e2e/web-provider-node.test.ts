// EdgecfgWebProvider's lifecycle outside a browser (Node's fetch, no EventSource): READY once
// initialize returns, FATAL for a refused token, and a context change re-evaluated by the store.
import { OpenFeature } from "@openfeature/web-sdk";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EdgecfgWebProvider } from "../../src/client/openfeature/web.ts";

const url = inject("e2eUrl");
const token = inject("e2eAdminToken");
const ns = `web-node-${Date.now().toString(36)}`;

beforeAll(async () => {
  const res = await fetch(`${url}/v1/kv/${ns}/plan-gate`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      state: "ENABLED",
      defaultVariant: "off",
      variants: { on: true, off: false },
      targeting: { if: [{ "==": [{ var: "plan" }, "pro"] }, "on", null] },
    }),
  });
  expect(res.status).toBe(201);
});

afterAll(() => OpenFeature.close());

describe("EdgecfgWebProvider (Node)", () => {
  it("a refused token is fatal at start", async () => {
    const provider = new EdgecfgWebProvider({ url, namespace: ns, token: "wrong", push: false });
    await expect(OpenFeature.setProviderAndWait("refused", provider)).rejects.toThrow();
    expect(OpenFeature.getClient("refused").providerStatus).toBe("FATAL");
  });

  it("is READY with the store's answer, and follows context changes", async () => {
    await OpenFeature.setContext("web", { targetingKey: "ann", plan: "pro" });
    const provider = new EdgecfgWebProvider({ url, namespace: ns, token, push: false });
    await OpenFeature.setProviderAndWait("web", provider);
    const client = OpenFeature.getClient("web");
    expect(client.providerStatus).toBe("READY");
    expect(client.getBooleanDetails("plan-gate", false)).toMatchObject({
      value: true,
      reason: "TARGETING_MATCH",
    });
    await OpenFeature.setContext("web", { targetingKey: "ann", plan: "free" });
    expect(client.getBooleanDetails("plan-gate", true)).toMatchObject({
      value: false,
      reason: "DEFAULT",
    });
  });
});
