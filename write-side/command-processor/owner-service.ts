/**
 * The direct route's processor side (proto/strata/write/v1/partition_owner.proto):
 * a gateway hands the commands of a partition to the process that owns it, found on
 * the status topic, and gets their outcomes once their transaction committed. No
 * command record crosses Kafka and no consumer waits for a fetch; the outcomes are
 * committed with the events to the command-results topic, for the other gateways.
 *
 * Only Strata's own gateways may call it: a call without the internal credential
 * (shared/auth/internal-credential.ts) is refused before anything is read, since the
 * principal and tenant inside a command are the gateway's word. Each command is
 * checked again against its type's schema, as the gateway checked it.
 *
 * Correctness does not rest on the gateway's idea of the owner: a process that
 * does not serve the partition refuses, and one that was fenced cannot commit.
 * Either way the gateway falls back to the commands topic with the same command ids,
 * which the partition's owner deduplicates.
 */
import { UnavailableError, ValidationError } from '../../shared/errors.js';
import { serveGrpc, unary, type GrpcServer } from '../../shared/grpc-server.js';
import type { ListenAt } from '../../shared/network-address.js';
import { partitionOfAggregate } from '../../shared/topics.js';
import { createCommandValidator, type CommandValidator } from '../command-validation.js';
import type { Domain } from '../decider/domain.js';
import { decodeDirectCommands, directCommandOf, loadPartitionOwnerService, type DirectCommand } from '../direct-route.js';
import type { PartitionOwner } from './partition-owner.js';

function parseCommands(json: Buffer, partition: number, partitions: number, validate: CommandValidator): DirectCommand[] {
  let items: unknown[];
  try {
    items = decodeDirectCommands(json);
  } catch (error) {
    throw new ValidationError(error instanceof Error ? error.message : String(error), '/commands_json');
  }
  return items.map((item, index) => {
    let direct: DirectCommand;
    try {
      direct = directCommandOf(item);
      const { commandType, aggregateId, expectedVersion, data } = direct.command;
      validate(commandType, { aggregateId, data, ...(expectedVersion === undefined ? {} : { expectedVersion }) });
    } catch (error) {
      throw new ValidationError(error instanceof Error ? error.message : String(error), `/commands_json/${String(index)}`);
    }
    const { tenant, aggregateId } = direct.command;
    if (partitionOfAggregate(tenant, aggregateId, partitions) !== partition) {
      throw new ValidationError(`aggregate ${aggregateId} is not on partition ${String(partition)}`, `/commands_json/${String(index)}`);
    }
    return direct;
  });
}

export function servePartitionOwner(options: {
  at: ListenAt;
  partitions: number;
  domain: Domain;
  /** Checks a call's `authorization`: the internal credential of a gateway. */
  verifyCaller: (authorization: string | undefined) => Promise<void>;
  /** The owner serving the partition in this process, if any. */
  ownerOf: (partition: number) => PartitionOwner | undefined;
  /** A direct batch's transaction failed: the processor lets the partition go and takes it again. */
  onFailure: (owner: PartitionOwner, error: unknown) => void;
}): Promise<GrpcServer> {
  const validate = createCommandValidator(options.domain);
  return serveGrpc(
    loadPartitionOwnerService(),
    {
      Decide: unary<{ partition: number; commands_json: Buffer }>(async ({ partition, commands_json: json }, metadata) => {
        const [authorization] = metadata.get('authorization');
        await options.verifyCaller(typeof authorization === 'string' ? authorization : undefined);
        const commands = parseCommands(json, partition, options.partitions, validate);
        const owner = options.ownerOf(partition);
        if (owner === undefined) throw new UnavailableError(`this process does not serve partition ${String(partition)}`, 1);
        try {
          // Asked for together, so decided together: one transaction.
          const outcomes = await Promise.all(commands.map(({ command, traceparent }) => owner.decide(command, traceparent)));
          return { outcomes_json: Buffer.from(JSON.stringify(outcomes)) };
        } catch (error) {
          options.onFailure(owner, error);
          throw new UnavailableError(`the transaction of partition ${String(partition)} failed; nothing of it was committed`, 1);
        }
      }),
    },
    options.at,
  );
}
