import { expect, inject, it } from "vitest";

it("serves /healthz like npm start does", async () => {
  const res = await fetch(`${inject("e2eUrl")}/healthz`);
  expect(res.status).toBe(200);
});
