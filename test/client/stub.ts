// A fetch stub for unit tests: records each request and answers from a handler.
import type { FetchLike } from "../../src/client/index.ts";

export interface Stub {
  fetch: FetchLike;
  requests: Request[];
}

export function stubFetch(
  handler: (req: Request, n: number) => Response | Promise<Response>,
): Stub {
  const requests: Request[] = [];
  const fetch: FetchLike = async (input, init) => {
    const req = new Request(input, init);
    requests.push(req.clone());
    if (init?.signal?.aborted) throw init.signal.reason;
    return handler(req, requests.length - 1);
  };
  return { fetch, requests };
}

export function problem(
  status: number,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return new Response(
    JSON.stringify({
      type: "https://edgecfg.dev/problems/x",
      title: "t",
      status,
      detail: `status ${status}`,
      ...extra,
    }),
    {
      status,
      headers: { "content-type": "application/problem+json", ...headers },
    },
  );
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function entry(key: string, modRevision: number, version = 1) {
  return {
    key,
    contentType: "application/json",
    size: 2,
    version,
    createRevision: modRevision,
    modRevision,
    updatedAt: "2026-01-01T00:00:00.000Z",
  };
}

/** A body that streams the given chunks, then ends (or stays open when `hang`). */
export function sseBody(
  chunks: string[],
  hang = false,
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      if (!hang) controller.close();
      else signal?.addEventListener("abort", () => controller.error(signal.reason));
    },
  });
}

export const noDelay = { baseDelayMs: 1, delayMsMax: 2 };
