// The types the tests see: the Worker's module (for `exports.default`) and its bindings, where
// the test build of edgecfg's binding adds reset().
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("../src/worker.ts");
  }
  interface Env {
    EDGECFG: {
      evaluate(namespace: string, flag: string, context: object): Promise<{ value?: unknown }>;
      write(key: string, value: unknown): Promise<unknown>;
      reset(): Promise<void>;
    };
  }
}
