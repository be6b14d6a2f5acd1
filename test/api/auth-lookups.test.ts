// Authorization lookups remembered per isolate (src/api/auth-lookups.ts), with an injected clock.
import { describe, expect, it } from "vitest";
import { authLookupLimits, forgetLookups, rememberedLookup } from "../../src/api/auth-lookups.ts";

/** A loader that counts its calls and answers the current `value`. */
function loader() {
  const state = { value: "v1", loads: 0 };
  const load = async () => {
    state.loads += 1;
    return state.value;
  };
  return { state, load };
}

describe("rememberedLookup", () => {
  it("answers from memory while younger than ttlMs (from when it was sent), then loads again", async () => {
    const env = {};
    const clock = { ms: 1_000 };
    const now = () => clock.ms;
    const { state, load } = loader();
    expect(await rememberedLookup(env, "k", load, now)).toBe("v1");
    state.value = "v2";
    clock.ms += authLookupLimits.ttlMs - 1;
    expect(await rememberedLookup(env, "k", load, now)).toBe("v1");
    expect(state.loads).toBe(1);
    clock.ms += 1;
    expect(await rememberedLookup(env, "k", load, now)).toBe("v2");
    expect(state.loads).toBe(2);
  });

  it("keeps each deployment (bindings object) and each key apart", async () => {
    const { state, load } = loader();
    const [a, b] = [{}, {}];
    await rememberedLookup(a, "k", load);
    await rememberedLookup(b, "k", load);
    await rememberedLookup(a, "other", load);
    expect(state.loads).toBe(3);
    await rememberedLookup(a, "k", load);
    expect(state.loads).toBe(3);
  });

  it("forgets everything on a write through this isolate, and keeps no lookup sent before it", async () => {
    const env = {};
    const { state, load } = loader();
    await rememberedLookup(env, "k", load);
    forgetLookups(env);
    state.value = "v2";
    expect(await rememberedLookup(env, "k", load)).toBe("v2");
    expect(state.loads).toBe(2);

    // A lookup in flight when the write lands answers its caller but is not remembered.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = rememberedLookup(env, "late", async () => {
      await gate;
      return "before the write";
    });
    forgetLookups(env);
    release();
    expect(await slow).toBe("before the write");
    expect(await rememberedLookup(env, "late", async () => "after the write")).toBe(
      "after the write",
    );
  });

  it("a failed lookup is not remembered", async () => {
    const env = {};
    await expect(
      rememberedLookup(env, "k", async () => {
        throw new Error("no leader");
      }),
    ).rejects.toThrow("no leader");
    expect(await rememberedLookup(env, "k", async () => "ok")).toBe("ok");
  });

  it("keeps at most entriesMax lookups, dropping the oldest, and only it", async () => {
    const env = {};
    const now = () => 0; // all fresh: only the bound drops entries
    const { state, load } = loader();
    for (let i = 0; i <= authLookupLimits.entriesMax; i++)
      await rememberedLookup(env, `k${i}`, load, now);
    expect(state.loads).toBe(authLookupLimits.entriesMax + 1);
    await rememberedLookup(env, `k${authLookupLimits.entriesMax}`, load, now); // the newest is kept
    await rememberedLookup(env, "k1", load, now); // so is the second oldest: entriesMax are kept
    expect(state.loads).toBe(authLookupLimits.entriesMax + 1);
    await rememberedLookup(env, "k0", load, now); // the oldest was dropped
    expect(state.loads).toBe(authLookupLimits.entriesMax + 2);
  });

  it("a lookup loaded again is the newest: the next one beyond entriesMax drops another", async () => {
    const env = {};
    const clock = { ms: 0 };
    const now = () => clock.ms;
    const { state, load } = loader();
    for (let i = 0; i < authLookupLimits.entriesMax; i++)
      await rememberedLookup(env, `k${i}`, load, now);
    clock.ms = authLookupLimits.ttlMs; // every lookup is too old now
    await rememberedLookup(env, "k0", load, now); // loaded again: the newest
    await rememberedLookup(env, "one more", load, now); // drops k1, the oldest
    expect(state.loads).toBe(authLookupLimits.entriesMax + 2);
    await rememberedLookup(env, "k0", load, now);
    expect(state.loads).toBe(authLookupLimits.entriesMax + 2);
  });
});
