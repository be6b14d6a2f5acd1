// The page of the browser test: the official OFREP web provider (@openfeature/ofrep-web-provider
// with @openfeature/web-sdk), unchanged, bundled for the browser by the test. It exposes
// window.flags for the test to drive through page.evaluate.
import { OFREPWebProvider } from "@openfeature/ofrep-web-provider";
import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";

const changes: string[][] = [];

async function start(baseUrl: string, token: string, context: Record<string, string>) {
  await OpenFeature.setContext(context);
  const provider = new OFREPWebProvider({
    baseUrl,
    headers: [["Authorization", `Bearer ${token}`]],
    pollInterval: 200,
    changeDetection: "polling",
    cacheMode: "disabled",
  });
  await OpenFeature.setProviderAndWait(provider);
  OpenFeature.getClient().addHandler(ProviderEvents.ConfigurationChanged, (details) => {
    changes.push(details?.flagsChanged ?? []);
  });
  return read();
}

function read() {
  const client = OpenFeature.getClient();
  return {
    status: client.providerStatus,
    checkout: client.getStringDetails("checkout", "none"),
    limit: client.getNumberDetails("limit", 0),
    missing: client.getBooleanDetails("missing", true),
  };
}

async function nextChange(ms: number) {
  const deadline = Date.now() + ms;
  while (changes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return { flagsChanged: changes.shift() ?? null, ...read() };
}

async function setContext(context: Record<string, string>) {
  await OpenFeature.setContext(context);
  return read();
}

Object.assign(globalThis, { flags: { start, read, nextChange, setContext } });
