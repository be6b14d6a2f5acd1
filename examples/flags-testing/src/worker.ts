// GET /?user=<id>: which checkout this user gets, from the flag shop/checkout that edgecfg
// evaluates over the binding with the caller's country (request.cf.country).
interface Env {
  EDGECFG: {
    evaluate(namespace: string, flag: string, context: object): Promise<{ value?: unknown }>;
  };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const user = new URL(request.url).searchParams.get("user") ?? "anonymous";
    const country = (request.cf?.country as string | undefined) ?? "";
    const checkout = await env.EDGECFG.evaluate("shop", "checkout", {
      targetingKey: user,
      country,
    });
    return Response.json({ checkout: checkout.value ?? "classic" });
  },
};
