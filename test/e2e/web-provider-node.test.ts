// EdgecfgWebProvider's lifecycle outside a browser (Node's fetch, no EventSource): READY once
// initialize returns, FATAL for a refused token, and a context change re-evaluated by the store.
import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";
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

/** An EventSource the test drives: it records its URL and fires what the test says. */
class FakeSource {
  static made: FakeSource[] = [];
  readyState = 0;
  closed = false;
  readonly handlers = new Map<string, ((e: unknown) => void)[]>();
  constructor(readonly url: string) {
    FakeSource.made.push(this);
  }
  addEventListener(type: string, fn: (e: unknown) => void) {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), fn]);
  }
  fire(type: string, event: unknown = {}) {
    for (const fn of this.handlers.get(type) ?? []) fn(event);
  }
  close() {
    this.closed = true;
  }
}

function nextEvent(domain: string, type: ProviderEvents, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type}`)), ms);
    const handler = () => {
      clearTimeout(timer);
      OpenFeature.getClient(domain).removeHandler(type, handler);
      resolve();
    };
    OpenFeature.getClient(domain).addHandler(type, handler);
  });
}

describe("EdgecfgWebProvider (Node)", () => {
  it("replaces a stream the browser gave up on (an expired ticket) with a new one", async () => {
    const provider = new EdgecfgWebProvider({
      url,
      namespace: ns,
      token,
      eventSource: FakeSource as unknown as typeof EventSource,
    });
    await OpenFeature.setProviderAndWait("renew", provider);
    const first = FakeSource.made.at(-1)!;
    expect(first.url).toMatch(new RegExp(`/v1/ns/${ns}/ofrep/v1/events\\?ticket=`));
    const stale = nextEvent("renew", ProviderEvents.Stale);
    first.readyState = 2; // CLOSED, as after a 401
    first.fire("error");
    await stale;
    expect(first.closed).toBe(true);
    const started = Date.now();
    while (FakeSource.made.at(-1) === first && Date.now() - started < 5_000)
      await new Promise((r) => setTimeout(r, 50));
    const second = FakeSource.made.at(-1)!;
    expect(second).not.toBe(first);
    const ready = nextEvent("renew", ProviderEvents.Ready);
    second.readyState = 1;
    second.fire("open");
    await ready;
  });

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
