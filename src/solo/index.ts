// The public surface of src/solo: one Durable Object per shard, no replication (the benchmark's
// single-object floor). The solo router imports only this.
export { SoloShardDO, type SoloStatus, type SoloWait } from "./shard-do.ts";
