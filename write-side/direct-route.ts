/**
 * The contract of the direct route between gateways and command processors: the
 * gRPC service (proto/strata/write/v1/partition_owner.proto) and what each command of
 * a call carries. The gateway's side is gateway/owner-client.ts, the processor's
 * command-processor/owner-service.ts.
 */
import { loadService, protoPath } from '../shared/grpc-server.js';
import type { CommandRecord } from './command-record.js';

export const partitionOwnerProto = protoPath('strata', 'write', 'v1', 'partition_owner.proto');

export function loadPartitionOwnerService() {
  return loadService(partitionOwnerProto, 'strata.write.v1.PartitionOwner', { keepCase: true, longs: Number, defaults: true });
}

/** What a DecideRequest's `commands_json` holds, item by item. */
export interface DirectCommand {
  command: CommandRecord;
  traceparent?: string;
}
