// Every route, in matching order: /history before the plain key read it would otherwise shadow.
import type { z } from "@hono/zod-openapi";
import type { RouteSpec } from "../route.ts";
import { auditList } from "./audit.ts";
import { cluster, health } from "./cluster.ts";
import {
  leaderTransfer,
  operationGet,
  replicaAdd,
  replicaRemove,
  replicaReplace,
  reshard,
} from "./cluster-ops.ts";
import { docs } from "./docs.ts";
import { kvDelete } from "./kv-delete.ts";
import { leaseGet, leaseGrant, leaseKeepAlive, leaseRevoke } from "./leases.ts";
import { lockAcquire, lockGet, lockRelease } from "./locks.ts";
import { kvGet } from "./kv-get.ts";
import { kvHistory } from "./kv-history.ts";
import { kvList } from "./kv-list.ts";
import { kvPut } from "./kv-put.ts";
import { nsBundle } from "./ns-bundle.ts";
import { nsApply } from "./ns-apply.ts";
import { nsRollback } from "./ns-rollback.ts";
import { ofrepBulk } from "./ofrep-bulk.ts";
import { ofrepEvents } from "./ofrep-events.ts";
import { ofrepSingle } from "./ofrep-single.ts";
import { nsSettingsGet, nsSettingsPut } from "./ns-settings.ts";
import { tokenList, tokenMint, tokenRevoke } from "./tokens.ts";
import { txn } from "./txn.ts";
import { watch } from "./watch.ts";

export const routes = [
  health,
  kvList,
  kvHistory,
  kvGet,
  kvPut,
  kvDelete,
  nsSettingsGet,
  nsSettingsPut,
  nsBundle,
  nsApply,
  nsRollback,
  auditList,
  ofrepBulk,
  ofrepSingle,
  ofrepEvents,
  txn,
  watch,
  tokenMint,
  tokenList,
  tokenRevoke,
  leaseGrant,
  leaseKeepAlive,
  leaseGet,
  leaseRevoke,
  lockAcquire,
  lockGet,
  lockRelease,
  cluster,
  // .../replicas/{id}/replace before .../replicas/{id}: an id may hold a slash (s0-r1/g1).
  replicaReplace,
  replicaAdd,
  replicaRemove,
  leaderTransfer,
  reshard,
  operationGet,
  docs,
] as unknown as RouteSpec<z.ZodType, z.ZodType | undefined>[];
