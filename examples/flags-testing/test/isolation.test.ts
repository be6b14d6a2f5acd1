// Another test file, so another runtime and store: it starts from the fixture whatever other
// files wrote, and its own write (never reset here) stays in its store.
import { env, exports } from "cloudflare:workers";
import { expect, it } from "vitest";

const edgecfg = env.EDGECFG;

async function checkout(country: string): Promise<string> {
  const request = new Request("https://checkout.example/?user=bob", { cf: { country } });
  return ((await (await exports.default.fetch(request)).json()) as { checkout: string }).checkout;
}

it("starts from the fixture, and its write changes its own store", async () => {
  expect(await checkout("US")).toBe("classic");
  await edgecfg.write("shop/checkout", {
    state: "ENABLED",
    defaultVariant: "onepage",
    variants: { classic: "classic", onepage: "onepage" },
  });
  expect(await checkout("US")).toBe("onepage");
});
