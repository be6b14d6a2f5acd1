// The page of the browser test: the official OFREP web provider (@openfeature/ofrep-web-provider
// with @openfeature/web-sdk), unchanged, bundled for the browser by the test. It exposes
// window.flags for the test to drive through page.evaluate.
import { OFREPWebProvider } from "@openfeature/ofrep-web-provider";
import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";

const changes: Record<string, string[][]> = {};

/** Domain "polling" polls every 200 ms; domain "sse" follows the answer's eventStreams. */
async function start(
  domain: "polling" | "sse",
  baseUrl: string,
  token: string,
  context: Record<string, string>,
) {
  await OpenFeature.setContext(context);
  const provider = new OFREPWebProvider({
    baseUrl,
    headers: [["Authorization", `Bearer ${token}`]],
    pollInterval: domain === "polling" ? 200 : 0,
    changeDetection: domain,
    cacheMode: "disabled",
  });
  await OpenFeature.setProviderAndWait(domain, provider);
  changes[domain] = [];
  OpenFeature.getClient(domain).addHandler(ProviderEvents.ConfigurationChanged, (details) => {
    changes[domain]!.push(details?.flagsChanged ?? []);
  });
  return read(domain);
}

function read(domain: string) {
  const client = OpenFeature.getClient(domain);
  return {
    status: client.providerStatus,
    checkout: client.getStringDetails("checkout", "none"),
    limit: client.getNumberDetails("limit", 0),
    missing: client.getBooleanDetails("missing", true),
  };
}

async function nextChange(domain: string, ms: number) {
  const started = performance.now();
  while (changes[domain]!.length === 0 && performance.now() - started < ms)
    await new Promise((r) => setTimeout(r, 5));
  const waitedMs = performance.now() - started;
  return { flagsChanged: changes[domain]!.shift() ?? null, waitedMs, ...read(domain) };
}

async function setContext(context: Record<string, string>) {
  await OpenFeature.setContext(context);
  return read("polling");
}

Object.assign(globalThis, { flags: { start, read, nextChange, setContext } });
