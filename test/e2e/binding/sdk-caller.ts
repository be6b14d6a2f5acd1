// A Worker that uses the SDK and the server provider with the service binding as transport
// (env.EDGECFG.fetch: no token, no HTTPS hop); bundled by the binding test.
import { OpenFeature } from "@openfeature/server-sdk";
import { createClient } from "../../../src/client/index.ts";
import { EdgecfgProvider } from "../../../src/client/openfeature/index.ts";

interface Env {
  EDGECFG: { fetch(input: Request | string | URL, init?: RequestInit): Promise<Response> };
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    const via = (input: Request | string | URL, init?: RequestInit) =>
      env.EDGECFG.fetch(input, init);
    const client = createClient({ url: "https://edgecfg.internal", fetch: via });
    const written = await client.put("shop/via-sdk", { ok: true });
    const value = await client.getJSON("shop/via-sdk");
    // A Worker request is short-lived: evaluate from a fresh bundle, no watch stream.
    const provider = new EdgecfgProvider({
      url: "https://edgecfg.internal",
      namespace: "shop",
      fetch: via,
      watch: false,
    });
    await OpenFeature.setProviderAndWait("binding", provider);
    const checkout = await OpenFeature.getClient("binding").getStringDetails("checkout", "none", {
      country: "DE",
    });
    return Response.json({ etag: written.etag, value, checkout });
  },
};
