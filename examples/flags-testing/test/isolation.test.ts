// Another test file, so another runtime and store: it starts from the fixture whatever other
// files wrote, and its own write stays in its store until reset.
import { env, exports } from "cloudflare:workers";
import { reset } from "cloudflare:test";
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

it("is empty after cloudflare:test's reset(), until env.EDGECFG.reset() seeds it again", async () => {
  // The plugin's reset() deletes every Durable Object of the runtime, edgecfg's replicas too.
  await reset();
  expect(await checkout("DE")).toBe("classic"); // no flag at all: the Worker's own default
  await edgecfg.reset();
  expect(await checkout("DE")).toBe("onepage");
});
