// The page of the browser test of edgecfg's own web provider (edgecfg/openfeature/web with
// @openfeature/web-sdk), bundled for the browser by the test; window.flags drives it.
import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";
import { EdgecfgWebProvider } from "../../../src/client/openfeature/web.ts";

const changes: string[][] = [];
const events: string[] = [];

async function start(
  url: string,
  namespace: string,
  token: string,
  context: Record<string, string>,
) {
  await OpenFeature.setContext(context);
  const client = OpenFeature.getClient();
  for (const type of [ProviderEvents.Ready, ProviderEvents.Stale, ProviderEvents.Error])
    client.addHandler(type, () => events.push(type));
  client.addHandler(ProviderEvents.ConfigurationChanged, (d) =>
    changes.push(d?.flagsChanged ?? []),
  );
  await OpenFeature.setProviderAndWait(new EdgecfgWebProvider({ url, namespace, token }));
  return read();
}

function read() {
  const client = OpenFeature.getClient();
  return {
    status: client.providerStatus,
    events: [...events],
    checkout: client.getStringDetails("checkout", "none"),
    limit: client.getNumberDetails("limit", 0),
    missing: client.getBooleanDetails("missing", true),
  };
}

async function nextChange(ms: number) {
  const started = performance.now();
  while (changes.length === 0 && performance.now() - started < ms)
    await new Promise((r) => setTimeout(r, 5));
  return { flagsChanged: changes.shift() ?? null, ...read() };
}

async function setContext(context: Record<string, string>) {
  await OpenFeature.setContext(context);
  return read();
}

Object.assign(globalThis, { flags: { start, read, nextChange, setContext } });
