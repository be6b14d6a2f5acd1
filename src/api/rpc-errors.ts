// Errors of the Workers binding. Workers RPC hands the caller an Error with the message (its
// class and extra members do not cross), so the API's problem travels in the message:
// "edgecfg <status> <type>: <detail>", the same status and problem type the HTTP API answers.
import { ShardUnavailableError } from "../router/index.ts";
import { ApiProblem, problemTypes } from "./problem.ts";

export function rpcError(err: unknown): Error {
  if (err instanceof ApiProblem)
    return new Error(`edgecfg ${err.init.status} ${err.init.type}: ${err.init.detail}`);
  if (err instanceof ShardUnavailableError) {
    const seconds = Math.max(1, Math.ceil(err.retryAfterMs / 1000));
    return new Error(
      `edgecfg 503 ${problemTypes.unavailable}: ${err.message}; retry after ${seconds} s`,
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Runs a binding method, turning the API's errors into RPC-safe ones. */
export async function rpc<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw rpcError(err);
  }
}
