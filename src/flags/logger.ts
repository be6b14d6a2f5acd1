// What every use of flagd-core here passes it: no logging (an evaluation's errors are returned
// to the caller, not printed once per request), and interpretation instead of compilation:
// json-logic-engine compiles rules with new Function, which workerd refuses.
import type { Logger } from "@openfeature/core";
import type { FlagdCoreOptions } from "@openfeature/flagd-core";

const ignore = () => {};

export const silentLogger: Logger = { error: ignore, warn: ignore, info: ignore, debug: ignore };

export const flagdOptions: FlagdCoreOptions = { disableDynamicCodeGeneration: true };
