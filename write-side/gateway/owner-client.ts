/**
 * The direct route's gateway side: hands commands to the process that owns their
 * partition (its address from the status topic) over gRPC and returns the outcomes.
 * Per partition at most two calls are under way; commands that arrive meanwhile go
 * together in the next call, and the owner commits what has reached it in one transaction.
 *
 * Anything short of an outcome (a refusal because ownership moved, a failed
 * transaction, the deadline) answers undefined: the gateway then produces the command
 * to the commands topic with the same id, which stays the durable path.
 */
import * as grpc from '@grpc/grpc-js';
import { decodeDirectOutcomes, loadPartitionOwnerService, type DirectCommand } from '../direct-route.js';
import { partitionOfAggregate } from '../../shared/topics.js';
import type { CommandOutcome, CommandRecord } from '../command-record.js';
import type { OutcomeListener } from './outcome-listener.js';
import type { PartitionReadiness } from './partition-readiness.js';
import { sendBatcher } from './send-batcher.js';

export interface OwnerClient {
  decide(address: string, partition: number, direct: DirectCommand, timeoutMs: number): Promise<CommandOutcome | undefined>;
  close(): void;
}

type DecideCall = (
  request: { partition: number; commands_json: Buffer },
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, reply?: { outcomes_json: Buffer }) => void,
) => void;

/** A reply's outcomes; none from a reply that does not hold outcomes, whose commands then take the commands topic. */
function outcomesOf(json: Buffer): CommandOutcome[] {
  try {
    return decodeDirectOutcomes(json);
  } catch {
    return [];
  }
}

interface Pending {
  direct: DirectCommand;
  deadline: number;
}

/**
 * `advertised`: the owner addresses on record now; channels to others are closed as new ones open.
 * `credential`: the internal credential every call carries (the owner refuses a call without it).
 */
export function createOwnerClient(advertised: () => ReadonlySet<string>, credential: () => Promise<string>): OwnerClient {
  const PartitionOwner = loadPartitionOwnerService();
  const clients = new Map<string, grpc.Client>();
  const batchers = new Map<string, (pending: Pending) => Promise<CommandOutcome | undefined>>();

  const clientFor = (address: string) => {
    let client = clients.get(address);
    if (client === undefined) {
      // Owners restart on new ports: channels to addresses no status names any more go.
      const current = advertised();
      for (const [old, stale] of clients) {
        if (current.has(old)) continue;
        stale.close();
        clients.delete(old);
        for (const key of batchers.keys()) if (key.startsWith(`${old}/`)) batchers.delete(key);
      }
      client = new PartitionOwner(address, grpc.credentials.createInsecure());
      clients.set(address, client);
    }
    return client;
  };

  const call = async (address: string, partition: number, batch: Pending[]) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', await credential());
    return new Promise<(CommandOutcome | undefined)[]>((resolve) => {
      const client = clientFor(address) as unknown as { Decide: DecideCall };
      const request = { partition, commands_json: Buffer.from(JSON.stringify(batch.map(({ direct }) => direct))) };
      // No command waits past its own deadline.
      const deadline = Math.min(...batch.map((pending) => pending.deadline));
      client.Decide(request, metadata, { deadline }, (error, reply) => {
        const outcomes = error === null && reply !== undefined ? outcomesOf(reply.outcomes_json) : [];
        resolve(batch.map((_, index) => outcomes[index]));
      });
    });
  };

  return {
    decide(address, partition, direct, timeoutMs) {
      const key = `${address}/${String(partition)}`;
      let batcher = batchers.get(key);
      if (batcher === undefined) {
        // Two calls under way: the next one's commands wait at the owner while a transaction
        // commits, so it begins the next at once instead of after a round trip.
        batcher = sendBatcher<Pending, CommandOutcome | undefined>((batch) => call(address, partition, batch), { maxBatch: 500, maxInFlight: 2 });
        batchers.set(key, batcher);
      }
      return batcher({ direct, deadline: Date.now() + timeoutMs });
    },
    close() {
      for (const client of clients.values()) client.close();
      clients.clear();
      batchers.clear();
    },
  };
}

/** Hands a command to its partition's owner; undefined when no owner took it (it then goes through the commands topic). */
export type DirectRoute = (command: CommandRecord, traceparent: string, timeoutMs: number) => Promise<CommandOutcome | undefined>;

/**
 * The direct route as the intake takes it: the owner's address from the status topic, and
 * its outcome remembered, so that this gateway answers `GET /commands/{id}` at once too.
 */
export function directRoute(
  owners: OwnerClient,
  readiness: Pick<PartitionReadiness, 'ownerAddress'>,
  outcomes: Pick<OutcomeListener, 'remember'>,
  partitions: number,
): DirectRoute {
  return async (command, traceparent, timeoutMs) => {
    const partition = partitionOfAggregate(command.tenant, command.aggregateId, partitions);
    const address = readiness.ownerAddress(partition);
    if (address === undefined) return undefined;
    const outcome = await owners.decide(address, partition, { command, traceparent }, timeoutMs);
    if (outcome !== undefined) outcomes.remember(outcome);
    return outcome;
  };
}
