// The Router over SoloShardDOs: one Durable Object per shard, named "shard-<n>", no replication.
// Namespaces map to shards by src/ring (SHARDS in [vars]); replicas are ignored.
// Every read is linearizable (one object serves every read and write of its shard); "stale"
// reads are served the same way and report the applied revision.
import type { SoloShardDO, SoloWait } from "../solo/index.ts";
import {
  BadTokenError,
  formatToken,
  revisionFor,
  ShardUnavailableError,
  type ClusterStatus,
  type Read,
  type ReadOptions,
  type Router,
  type WaitRequest,
  type Waited,
  type Written,
} from "./types.ts";
import { parseTopology, shardFor, type Topology } from "../ring/index.ts";
import type { Command, Query, QueryResult, WriteOutcome } from "../store/index.ts";

/** The bindings and [vars] the solo backend reads (src/env.ts's Env has them all). */
export interface SoloRouterEnv {
  SOLO_SHARD: DurableObjectNamespace<SoloShardDO>;
  SHARDS?: string;
}

export class SoloRouter implements Router {
  private readonly env: SoloRouterEnv;
  private readonly topology: Topology;

  /** Throws TopologyError (naming the [vars] entry to fix) when the topology is invalid. */
  constructor(env: SoloRouterEnv) {
    this.env = env;
    this.topology = parseTopology(env as unknown as Record<string, unknown>);
  }

  async shardOf(namespace: string): Promise<number> {
    return this.shardIndex(namespace);
  }

  private shardIndex(namespace: string): number {
    return shardFor(namespace, this.topology).index;
  }

  private stub(shard: number): DurableObjectStub<SoloShardDO> {
    return this.env.SOLO_SHARD.get(this.env.SOLO_SHARD.idFromName(`shard-${shard}`));
  }

  async write(namespace: string, command: Command): Promise<Written> {
    const shard = this.shardIndex(namespace);
    const outcome = (await unavailableIfOverloaded(shard, () =>
      this.stub(shard).write(command),
    )) as WriteOutcome;
    return { outcome, token: formatToken(shard, outcome.revision) };
  }

  async read<Q extends Query>(
    namespace: string,
    query: Q,
    options: ReadOptions,
  ): Promise<Read<QueryResult<Q>>> {
    const shard = this.shardIndex(namespace);
    const result = (await unavailableIfOverloaded(shard, () =>
      this.stub(shard).read(query),
    )) as QueryResult<Q>;
    const revision = (result as { revision: number }).revision;
    if (options.minToken !== undefined) checkMinToken(options.minToken, shard, revision);
    return { result, token: formatToken(shard, revision), appliedRevision: revision };
  }

  async waitForChange(namespace: string, request: WaitRequest): Promise<Waited> {
    const shard = this.shardIndex(namespace);
    const { key, afterRevision, timeoutMs } = request;
    const w = (await unavailableIfOverloaded(shard, () =>
      this.stub(shard).waitForChange(namespace, key, afterRevision, timeoutMs),
    )) as SoloWait;
    if (w.type === "busy")
      throw new ShardUnavailableError(`shard ${shard} has too many long polls waiting`, 5_000);
    return { changed: w.type === "changed", token: formatToken(shard, w.revision) };
  }

  async cluster(): Promise<ClusterStatus> {
    const shards = await Promise.all(
      this.topology.shards.map(async ({ index: shard }) => {
        try {
          const s = await this.stub(shard).status();
          return {
            shard,
            revision: s.revision,
            replicas: [
              {
                id: `shard-${shard}`,
                location: "durable-object",
                role: "solo" as const,
                term: 0,
                commitIndex: s.appliedIndex,
                appliedIndex: s.appliedIndex,
                lastContactMs: s.lastRequestMs,
                voter: true,
                matchIndex: s.appliedIndex,
                lag: 0,
                snapshot: null,
                operation: null,
              },
            ],
          };
        } catch (error) {
          return {
            shard,
            revision: null,
            replicas: [],
            error: error instanceof Error ? error.message : String(error),
          };
        }
      }),
    );
    return {
      backend: "solo",
      ring: { shards: this.topology.shardCount, replicasPerShard: 1 },
      shards,
      // The benchmark's single-object floor reads its ring from [vars] (no directory).
      pendingConfig: null,
    };
  }
}

/**
 * An overloaded Durable Object must not be retried at once (it sheds load); the client is told to
 * come back later instead (503 with Retry-After). Other errors are bugs and propagate.
 */
async function unavailableIfOverloaded(
  shard: number,
  call: () => Promise<unknown>,
): Promise<unknown> {
  try {
    return await call();
  } catch (error) {
    if ((error as { overloaded?: boolean } | null)?.overloaded === true) {
      throw new ShardUnavailableError(`shard ${shard} is overloaded`, 1_000);
    }
    throw error;
  }
}

/**
 * A single object has applied every acknowledged write of its shard, so a token it has not
 * reached can only come from elsewhere (another deployment, a wiped shard, an edited token).
 */
function checkMinToken(minToken: string, shard: number, revision: number): void {
  const wanted = revisionFor(minToken, shard);
  if (wanted === null)
    throw new BadTokenError(`consistency token ${JSON.stringify(minToken)} is malformed`);
  if (wanted === undefined || wanted <= revision) return;
  throw new BadTokenError(
    `consistency token ${minToken} is ahead of shard ${shard} (at revision ${revision}): ` +
      "it was not issued by this deployment; drop X-Edgecfg-Min-Revision or send a token this deployment returned",
  );
}
