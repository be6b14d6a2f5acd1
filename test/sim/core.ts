// The simulator drives the consensus core only through this narrow adapter, loaded from a folder
// at run time. The default is src/raft; `--core <dir>` points at a scratch copy (e.g. one with a
// planted bug) without touching the real core.
import { pathToFileURL } from "node:url";
import type { LogStorage } from "../../src/raft/storage.ts";
import type {
  ConfChange,
  ConfState,
  Message,
  NodeId,
  RaftConfig,
  Ready,
  Role,
} from "../../src/raft/types.ts";

export type ProposeResult = { ok: true } | { ok: false; reason: string };

export interface NodeStatus {
  id: NodeId;
  term: number;
  role: Role;
  leader: NodeId;
  commit: number;
  applied: number;
  lastIndex: number;
  conf: ConfState;
  quiesced: boolean;
}

/** What the simulator needs of RawNode (etcd-io/raft shape). */
export interface RawNodeLike {
  /** `nowMs`: the member's clock (cluster.ts `clockMs`); read leases need it on every call that takes it. */
  tick(nowMs?: number): void;
  step(m: Message, nowMs?: number): void;
  propose(data: Uint8Array): ProposeResult;
  proposeConfChange(cc: ConfChange): ProposeResult;
  readIndex(context: string): unknown;
  /** Read leases: the index a read may be served at now without a round, or null. */
  leaseRead(nowMs: number): number | null;
  transferLeadership(to: NodeId): unknown;
  campaign(nowMs?: number): unknown;
  hasReady(): boolean;
  ready(): Ready;
  advance(): void;
  status(): NodeStatus;
}

export interface Core {
  /** The folder the core was loaded from, for the replay command. */
  dir: string;
  /** A fresh member's storage; `conf` null for a member that joins later (empty membership). */
  createStorage(conf: ConfState | null): LogStorage;
  /** `appliedIndex`: what the application already applied (the simulator's state machine is volatile). */
  createNode(config: RaftConfig, storage: LogStorage, appliedIndex: number): RawNodeLike;
  applyConfChange(conf: ConfState, cc: ConfChange): ConfState;
  decodeConfChange(data: Uint8Array): ConfChange;
}

export const defaultCoreDir = new URL("../../src/raft/", import.meta.url).pathname;

export async function loadCore(dir: string = defaultCoreDir): Promise<Core> {
  const base = pathToFileURL(dir.endsWith("/") ? dir : `${dir}/`);
  const rawnode = (await import(new URL("rawnode.ts", base).href)) as CoreModules["rawnode"];
  const memory = (await import(new URL("memory-storage.ts", base).href)) as CoreModules["memory"];
  const confchange = (await import(
    new URL("confchange.ts", base).href
  )) as CoreModules["confchange"];
  return coreFromModules(dir, { rawnode, memory, confchange });
}

/** The modules of a core folder, for callers that import them statically (e.g. vitest). */
export interface CoreModules {
  rawnode: Record<string, any>;
  memory: Record<string, any>;
  confchange: Record<string, any>;
}

export function coreFromModules(dir: string, modules: CoreModules): Core {
  const { RawNode, bootstrap } = modules.rawnode;
  const { MemoryStorage } = modules.memory;
  if (
    typeof RawNode !== "function" ||
    typeof MemoryStorage !== "function" ||
    typeof bootstrap !== "function"
  ) {
    throw new Error(
      `core at ${dir} must export RawNode and bootstrap (rawnode.ts) and MemoryStorage (memory-storage.ts)`,
    );
  }
  return {
    dir,
    createStorage(conf) {
      const storage = new MemoryStorage() as LogStorage;
      if (conf !== null) bootstrap(storage, conf);
      return storage;
    },
    createNode: (config, storage, appliedIndex) =>
      new RawNode({ ...config, appliedIndex }, storage) as RawNodeLike,
    applyConfChange: modules.confchange.applyConfChange,
    decodeConfChange: modules.confchange.decodeConfChange,
  };
}
