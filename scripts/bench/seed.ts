// The data every target starts from: 64 small JSON values to read, a namespace of flags whose
// bundle apps poll, and the hot key of the contention scenario. CAS keys are created by the
// clients themselves (a CAS on an absent key is a create-only write).
import { httpClient, makeDriver, type Answer, type Driver } from "./driver.ts";
import { schema20, schemaNamespace } from "./schema-put.ts";
import type { BenchKeys, Target } from "./types.ts";

export const benchKeys: BenchKeys = {
  readKeys: Array.from({ length: 64 }, (_, i) => `bench/k${i}`),
  bundleNamespace: "bench-app",
  targetedFlag: "targeted",
  casPrefix: "bench/cas/c",
  hotKey: "bench/hot",
  lock: "bench/lock",
  lockNamespace: "bench",
};

const bundleEntriesCount = 16;
/** A fresh Raft group answers 503 until it has elected a leader; seeding waits that long at most. */
const unavailableRetryMsMax = 15_000;
const retryStepMs = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A PUT, retried while the target answers 503 (an election), as a client would. */
async function putRetrying(driver: Driver, key: string, value: string): Promise<Answer> {
  const deadline = Date.now() + unavailableRetryMsMax;
  for (;;) {
    const answer = await driver.put(key, value);
    if (answer.status !== 503 || Date.now() > deadline) return answer;
    await sleep(retryStepMs);
  }
}

function seedKeys(target: Target): string[] {
  const bundle = Array.from(
    { length: bundleEntriesCount },
    (_, i) => `${benchKeys.bundleNamespace}/flag${i}`,
  );
  bundle.push(`${benchKeys.bundleNamespace}/${benchKeys.targetedFlag}`);
  return [...benchKeys.readKeys, benchKeys.hotKey, ...(target.kind === "edgecfg" ? bundle : [])];
}

/** A flagd definition with three rules: staff by e-mail, EU countries, new app versions. */
const targetedFlag = JSON.stringify({
  state: "ENABLED",
  defaultVariant: "off",
  variants: { off: "off", staff: "staff", eu: "eu", beta: "beta" },
  targeting: {
    if: [
      { ends_with: [{ var: "email" }, "@example.com"] },
      "staff",
      { in: [{ var: "country" }, ["DE", "FR", "AT"]] },
      "eu",
      { sem_ver: [{ var: "appVersion" }, ">=", "2.5.0"] },
      "beta",
      null,
    ],
  },
});

/** The put4kSchema cell's schema, on every name of its namespace; why it failed, or undefined. */
async function seedSchema(target: Target): Promise<string | undefined> {
  if (target.kind !== "edgecfg") return undefined;
  const { http, agent } = httpClient(target.url, 1);
  try {
    const res = await http({
      method: "PUT",
      path: `/v1/ns/${schemaNamespace}/settings`,
      headers: {
        authorization: `Bearer ${target.adminToken}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ schemas: { "": schema20 } }),
    });
    return res.status === 200 ? undefined : `setting the bench schema answered ${res.status}`;
  } finally {
    await agent.close();
  }
}

/** Writes the seed; the shard of the `bench` namespace (from edgecfg's token), or why it failed. */
export async function seed(
  target: Target,
): Promise<{ shard: number | undefined } | { failed: string }> {
  const driver = await makeDriver(target, 1);
  let shard: number | undefined;
  try {
    for (const key of seedKeys(target)) {
      const value =
        key === `${benchKeys.bundleNamespace}/${benchKeys.targetedFlag}`
          ? targetedFlag
          : JSON.stringify({ key, enabled: true, rollout: 0.5, note: "x".repeat(48) });
      const res = await putRetrying(driver, key, value);
      if (res.status !== 200 && res.status !== 201)
        return { failed: `a PUT of ${key} answered ${res.status}` };
      if (key === benchKeys.hotKey)
        shard = Number(/^s(\d+)\./.exec(res.token ?? "")?.[1] ?? Number.NaN);
    }
  } catch (error) {
    return { failed: `a PUT failed: ${(error as Error).message}` };
  } finally {
    await driver.close();
  }
  const schemaFailed = await seedSchema(target).catch((e: Error) => e.message);
  if (schemaFailed !== undefined) return { failed: schemaFailed };
  return { shard: Number.isNaN(shard) ? undefined : shard };
}
