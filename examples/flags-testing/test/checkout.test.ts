// The Worker against the seeded store, through the same binding it uses deployed.
import { env, exports } from "cloudflare:workers";
import { afterEach, expect, it } from "vitest";

const edgecfg = env.EDGECFG; // the binding the Worker uses, typed in env.d.ts

async function checkout(country: string): Promise<string> {
  const request = new Request("https://checkout.example/?user=ann", { cf: { country } });
  const res = await exports.default.fetch(request);
  return ((await res.json()) as { checkout: string }).checkout;
}

// Writes stay in this file's store until reset: put each test back to the fixture.
afterEach(() => edgecfg.reset());

it("gives shoppers in Germany the one-page checkout, as the fixture's targeting says", async () => {
  expect(await checkout("DE")).toBe("onepage");
  expect(await checkout("US")).toBe("classic");
});

it("follows a change of the flag", async () => {
  await edgecfg.write("shop/checkout", {
    state: "ENABLED",
    defaultVariant: "onepage",
    variants: { classic: "classic", onepage: "onepage" },
  });
  expect(await checkout("US")).toBe("onepage");
});

it("sees the fixture again after the reset of the test before", async () => {
  expect(await checkout("US")).toBe("classic");
});
