// 32 clients increment one counter by compare-and-set against the store served as `npm start`
// serves it. Linearizable CAS means: the final value equals the number of successful CAS
// responses, and every value any client ever read was once written by somebody.
import { expect, inject, it } from "vitest";

const clientsCount = 32;
const incrementsPerClient = 6;
const attemptsMax = 400;

const url = inject("e2eUrl");
const auth = { Authorization: `Bearer ${inject("e2eAdminToken")}` };
const key = `e2e-counter/c-${Date.now()}`;

interface Observed {
  reads: number[];
  written: number[];
  successes: number;
}

async function readCounter(): Promise<{ value: number; etag: string }> {
  const res = await fetch(`${url}/v1/kv/${key}`, { headers: auth });
  expect(res.status, await describe(res)).toBe(200);
  const etag = res.headers.get("ETag");
  expect(etag).toMatch(/^"/);
  return { value: Number(await res.json()), etag: etag! };
}

async function casWrite(value: number, etag: string): Promise<number> {
  const res = await fetch(`${url}/v1/kv/${key}`, {
    method: "PUT",
    headers: { ...auth, "Content-Type": "application/json", "If-Match": etag },
    body: JSON.stringify(value),
  });
  await res.arrayBuffer();
  return res.status;
}

async function describe(res: Response): Promise<string> {
  return `${res.status} ${await res.clone().text()}`;
}

async function client(observed: Observed): Promise<void> {
  let done = 0;
  for (let attempt = 0; done < incrementsPerClient; attempt++) {
    expect(attempt, "too many CAS conflicts: the store is not making progress").toBeLessThan(
      attemptsMax,
    );
    const { value, etag } = await readCounter();
    observed.reads.push(value);
    const next = value + 1;
    const status = await casWrite(next, etag);
    if (status === 200) {
      observed.written.push(next);
      observed.successes++;
      done++;
    } else {
      // 412 is the expected loss of a race; 503 during an election is retryable too.
      expect([412, 503]).toContain(status);
      await new Promise((r) => setTimeout(r, Math.random() * 10));
    }
  }
}

it("32 concurrent CAS clients never lose an increment", async () => {
  const create = await fetch(`${url}/v1/kv/${key}`, {
    method: "PUT",
    headers: { ...auth, "Content-Type": "application/json", "If-None-Match": "*" },
    body: "0",
  });
  expect(create.status, await describe(create)).toBe(201);

  const observed: Observed = { reads: [], written: [0], successes: 0 };
  await Promise.all(Array.from({ length: clientsCount }, () => client(observed)));

  const final = await readCounter();
  expect(observed.successes).toBe(clientsCount * incrementsPerClient);
  expect(final.value).toBe(observed.successes);
  const written = new Set(observed.written);
  const neverWritten = observed.reads.filter((v) => !written.has(v));
  expect(neverWritten).toEqual([]);
  // Each successful CAS wrote a distinct value: no two clients won the same race.
  expect(written.size).toBe(observed.written.length);
});
