// GET /?user=<id> answers which checkout this user gets, evaluated by edgecfg over the binding
// with the caller's country (request.cf.country).
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const context = {
      targetingKey: url.searchParams.get("user") ?? "anonymous",
      country: request.cf?.country ?? "",
    };
    const checkout = await env.EDGECFG.evaluate("shop", "checkout", context);
    const flags = await env.EDGECFG.evaluateAll("shop", context);
    return Response.json({ checkout, revision: flags.revision, flags: flags.flags.length });
  },
};
