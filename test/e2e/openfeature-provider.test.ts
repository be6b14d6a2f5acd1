// edgecfg's own OpenFeature server provider (edgecfg/openfeature) with @openfeature/server-sdk,
// against the store served as `npm start` serves it: READY before the first evaluation, a change
// pushed as PROVIDER_CONFIGURATION_CHANGED with flagsChanged, PROVIDER_STALE when the watch
// stream is lost and READY when it is back, FATAL for a refused token, the fallback as STALE.
import { OpenFeature, ProviderEvents, type EventDetails } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EdgecfgProvider } from "../../src/client/openfeature/index.ts";

const url = inject("e2eUrl");
const token = inject("e2eAdminToken");
const ns = `of-own-${Date.now().toString(36)}`;

async function put(name: string, value: unknown): Promise<void> {
  const res = await fetch(`${url}/v1/kv/${ns}/${name}`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(value),
  });
  if (!res.ok) throw new Error(`put ${name}: ${res.status} ${await res.text()}`);
}

const checkout = (variant: string) => ({
  state: "ENABLED",
  defaultVariant: variant,
  variants: { classic: "classic", onepage: "onepage" },
  targeting: { if: [{ "==": [{ var: "country" }, "DE"] }, "onepage", null] },
});

/** The next event of `type` on the named provider's clients, or a timeout. */
function nextEvent(
  domain: string,
  type: ProviderEvents,
  ms = 10_000,
): Promise<EventDetails & { statusThen: string }> {
  return new Promise((resolve, reject) => {
    const client = OpenFeature.getClient(domain);
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${ms} ms`)), ms);
    const handler = (details?: EventDetails) => {
      clearTimeout(timer);
      client.removeHandler(type, handler);
      resolve({ ...details!, statusThen: client.providerStatus });
    };
    client.addHandler(type, handler);
  });
}

/**
 * A fetch whose open watch streams the test can cut, as a dropped connection would, or end
 * cleanly, as the server does when it rotates a stream.
 */
function cuttableFetch() {
  const streams = new Set<AbortController>();
  const enders = new Set<() => void>();
  const fetchFn = async (input: Request | string | URL, init?: RequestInit) => {
    if (!String(input).includes("/v1/watch")) return fetch(input, init);
    const cut = new AbortController();
    streams.add(cut);
    const signals = [cut.signal, ...(init?.signal ? [init.signal] : [])];
    const res = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const reader = res.body!.getReader();
    let ended = false;
    enders.add(() => {
      ended = true;
      void writer.close().catch(() => {});
      void reader.cancel().catch(() => {});
    });
    void (async () => {
      try {
        for (let r = await reader.read(); !r.done && !ended; r = await reader.read())
          await writer.write(r.value);
        if (!ended) await writer.close();
      } catch (error) {
        if (!ended) await writer.abort(error).catch(() => {});
      }
    })();
    return new Response(readable, { status: res.status, headers: res.headers });
  };
  const cut = () => streams.forEach((s) => s.abort(new TypeError("reset")));
  const end = () => enders.forEach((e) => e());
  return { fetch: fetchFn, cut, end };
}

const cuttable = cuttableFetch();

beforeAll(async () => {
  await put("checkout", checkout("classic"));
  await put("limits", { maxItems: 20 });
  await OpenFeature.setProviderAndWait(
    "own",
    new EdgecfgProvider({ url, namespace: ns, token, fetch: cuttable.fetch }),
  );
});

afterAll(() => OpenFeature.close());

describe("EdgecfgProvider", () => {
  const client = () => OpenFeature.getClient("own");

  it("is READY once initialize returns, and evaluates flagd targeting in process", async () => {
    expect(client().providerStatus).toBe("READY");
    const de = await client().getStringDetails("checkout", "x", { country: "DE" });
    expect(de).toMatchObject({ value: "onepage", reason: "TARGETING_MATCH", variant: "onepage" });
    const us = await client().getStringDetails("checkout", "x", { country: "US" });
    expect(us).toMatchObject({ value: "classic", reason: "DEFAULT" });
    const limits = await client().getObjectDetails("limits", {});
    expect(limits).toMatchObject({ value: { maxItems: 20 }, reason: "STATIC" });
    expect(limits.variant).toMatch(/^"r\d+"$/);
    const wrong = await client().getBooleanDetails("limits", false);
    expect(wrong).toMatchObject({ value: false, errorCode: "TYPE_MISMATCH" });
  });

  it("pushes a change as CONFIGURATION_CHANGED naming the flag", async () => {
    const changed = nextEvent("own", ProviderEvents.ConfigurationChanged);
    const started = performance.now();
    await put("checkout", checkout("onepage"));
    const details = await changed;
    const ms = performance.now() - started;
    console.log(`flag change -> CONFIGURATION_CHANGED in ${ms.toFixed(1)} ms (PUT included)`);
    expect(details.flagsChanged).toEqual(["checkout"]);
    expect(await client().getStringValue("checkout", "x", { country: "US" })).toBe("onepage");
  });

  it("is STALE while the stream is lost, READY once it is back", async () => {
    const stale = nextEvent("own", ProviderEvents.Stale);
    // Registered while STALE: a READY handler added while READY would run at once.
    const ready = stale.then(() => nextEvent("own", ProviderEvents.Ready));
    cuttable.cut();
    expect((await stale).statusThen).toBe("STALE");
    // Answers go on from the last bundle meanwhile.
    expect(await client().getStringValue("checkout", "x", { country: "DE" })).toBe("onepage");
    expect((await ready).statusThen).toBe("READY");
    // Changed while the stream was down or after: the provider catches up.
    const changed = nextEvent("own", ProviderEvents.ConfigurationChanged);
    await put("limits", { maxItems: 30 });
    expect((await changed).flagsChanged).toEqual(["limits"]);
  });

  it("a stream the server ends is reopened without PROVIDER_STALE", async () => {
    await new Promise((r) => setTimeout(r, 1_100)); // a stream that lived, not a quick end
    const stale: string[] = [];
    const onStale = () => stale.push("stale");
    client().addHandler(ProviderEvents.Stale, onStale);
    cuttable.end();
    await new Promise((r) => setTimeout(r, 300));
    const changed = nextEvent("own", ProviderEvents.ConfigurationChanged);
    await put("limits", { maxItems: 40 });
    expect((await changed).flagsChanged).toEqual(["limits"]);
    client().removeHandler(ProviderEvents.Stale, onStale);
    expect(stale).toEqual([]);
  });

  it("a refused token is fatal at start", async () => {
    const provider = new EdgecfgProvider({ url, namespace: ns, token: "wrong-token" });
    await expect(OpenFeature.setProviderAndWait("refused", provider)).rejects.toThrow();
    expect(OpenFeature.getClient("refused").providerStatus).toBe("FATAL");
  });

  it("answers from the fallback with reason STALE when the store is unreachable", async () => {
    const fallback = { namespace: ns, revision: 1, entries: { limits: { maxItems: 5 } } };
    const provider = new EdgecfgProvider({
      url: "http://127.0.0.1:9",
      namespace: ns,
      fallback,
      watch: false,
    });
    await OpenFeature.setProviderAndWait("offline", provider);
    const details = await OpenFeature.getClient("offline").getObjectDetails("limits", {});
    expect(details).toMatchObject({ value: { maxItems: 5 }, reason: "STALE" });
  });
});
