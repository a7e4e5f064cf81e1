/**
 * The contract of the direct route between gateways and command processors: the
 * gRPC service (proto/strata/write/v1/partition_owner.proto) and what each command of
 * a call carries. The gateway's side is gateway/owner-client.ts, the processor's
 * command-processor/owner-service.ts.
 */
import { Type } from '@sinclair/typebox';
import { loadService, protoPath } from '../shared/grpc-server.js';
import { recordDecoder } from '../shared/record-decoder.js';
import { commandOf, outcomeOf, storedCommandSchema, storedOutcomeSchema, type CommandOutcome, type CommandRecord } from './command-record.js';

export const partitionOwnerProto = protoPath('strata', 'write', 'v1', 'partition_owner.proto');

export function loadPartitionOwnerService() {
  return loadService(partitionOwnerProto, 'strata.write.v1.PartitionOwner', { keepCase: true, longs: Number, defaults: true });
}

/** What a DecideRequest's `commands_json` holds, item by item. */
export interface DirectCommand {
  command: CommandRecord;
  traceparent?: string;
}

/** A DecideRequest's `commands_json`: an array, whose items directCommandOf checks one by one so that a refusal names the item. */
export const decodeDirectCommands = recordDecoder('a list of direct commands', Type.Array(Type.Unknown()));

const directCommand = recordDecoder('a direct command', Type.Object({ command: storedCommandSchema, traceparent: Type.Optional(Type.String()) }));

/** An item of `commands_json`, checked. */
export function directCommandOf(item: unknown): DirectCommand {
  const { command, traceparent } = directCommand.check(item);
  return { command: commandOf(command), ...(traceparent === undefined ? {} : { traceparent }) };
}

const directOutcomes = recordDecoder('the outcomes of a Decide call', Type.Array(storedOutcomeSchema));

/** A DecideReply's `outcomes_json`: the outcomes of the commands asked for, in their order. */
export const decodeDirectOutcomes = (json: Buffer): CommandOutcome[] => directOutcomes(json).map(outcomeOf);
