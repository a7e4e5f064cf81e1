/**
 * The internal plane: a command processor's PartitionOwner gRPC service decides only
 * for Strata's own gateways. A gateway's direct calls carry the internal credential
 * and are decided; a forged call (another tenant, an invented principal) without it,
 * or signed with another secret, is refused UNAUTHENTICATED and appends nothing; a
 * call with the credential and data its type's schema refuses is refused too.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { internalSecret, internalSigner } from '../../shared/auth/internal-credential.js';
import { loadConfig } from '../../shared/config.js';
import { decodeEvent } from '../../shared/event-envelope.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { deleteWriteSideTopics, partitionOfAggregate, writeSideTopics } from '../../shared/topics.js';
import { startCommandProcessor, type CommandProcessor } from '../../write-side/command-processor/command-processor.js';
import { loadPartitionOwnerService } from '../../write-side/direct-route.js';
import { startGateway, type Gateway } from '../../write-side/gateway/gateway.js';
import { processorStatus } from '../../write-side/processor-status.js';
import counterApp from '../apps/counter-app.js';
import { freePorts } from '../../infra/stack/ports.js';
import { logger, uniqueName } from '../support/test-context.js';
import { readWholeTopic } from '../support/topic-reader.js';

type Decide = (request: { partition: number; commands_json: Buffer }, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null) => void) => void;

describe('the internal plane', () => {
  let processor: CommandProcessor;
  let gateway: Gateway;
  let owner: grpc.Client;
  const config = loadConfig({ ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-internal'), STRATA_PARTITIONS: '1' });
  const log = createLogClient(config, { clientId: 'strata-test', logger });
  const eventsOf = async (aggregateId: string) =>
    (await readWholeTopic(log, writeSideTopics(config).events, { partitions: 1 })).map((record) => decodeEvent(record)).filter((event) => event.aggregateId === aggregateId);

  before(async () => {
    const [port = 0] = await freePorts(1);
    const processorConfig = loadConfig({ ...process.env, STRATA_TOPIC_PREFIX: config.topics.prefix, STRATA_PARTITIONS: '1', STRATA_PROCESSOR_GRPC_PORT: String(port) });
    processor = await startCommandProcessor({ log, config: processorConfig, domain: counterApp.domain, logger });
    gateway = await startGateway({ log, config, domain: counterApp.domain, logger, port: 0, grpcPort: 0 });
    for (const deadline = Date.now() + 30_000; !(await processorStatus(log, config)).every((report) => report.serving) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 200));
    const PartitionOwner = loadPartitionOwnerService();
    owner = new PartitionOwner(`127.0.0.1:${String(port)}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    owner.close();
    await gateway.stop();
    await processor.stop();
    await deleteWriteSideTopics(log, config);
  });

  /** A direct call for `aggregateId` as a forger would make it: globex's tenant, a principal of its own invention. */
  const forged = (aggregateId: string, data: object, authorization?: string) =>
    new Promise<grpc.ServiceError | null>((resolve) => {
      const command = {
        commandId: randomUUID(),
        commandType: 'Increment',
        tenant: 'globex',
        aggregateType: 'Counter',
        aggregateId,
        data,
        correlationId: randomUUID(),
        submittedAt: new Date().toISOString(),
        principal: { subject: 'nobody-at-all', tenant: 'globex', roles: ['admin'], scopes: [] },
      };
      const metadata = new grpc.Metadata();
      if (authorization !== undefined) metadata.set('authorization', authorization);
      const request = { partition: partitionOfAggregate('globex', aggregateId, 1), commands_json: Buffer.from(JSON.stringify([{ command }])) };
      (owner as unknown as { Decide: Decide }).Decide(request, metadata, resolve);
    });

  it("decides a gateway's direct calls, which carry the credential", async () => {
    const answer = await fetch(`${gateway.url}/commands/Increment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ aggregateId: 'by-gateway', data: { by: 1 } }) });
    assert.equal(answer.status, 200, await answer.text());
    assert.deepEqual(await readWholeTopic(log, writeSideTopics(config).commands, { partitions: 1 }), [], 'by the direct route');
  });

  it('refuses a forged call without the credential, or signed with another secret, and decides nothing', async () => {
    const none = await forged('forged-1', { by: 1 });
    assert.equal(none?.code, grpc.status.UNAUTHENTICATED, String(none?.message));
    const otherSecret = new TextEncoder().encode('a-secret-that-is-not-this-projects-own');
    const foreign = await forged('forged-2', { by: 1 }, await internalSigner(otherSecret, 'strata-gateway')());
    assert.equal(foreign?.code, grpc.status.UNAUTHENTICATED, String(foreign?.message));
    const garbage = await forged('forged-3', { by: 1 }, 'Bearer not-a-token');
    assert.equal(garbage?.code, grpc.status.UNAUTHENTICATED);
    for (const aggregateId of ['forged-1', 'forged-2', 'forged-3']) assert.deepEqual(await eventsOf(aggregateId), [], `${aggregateId}: nothing appended`);
  });

  it("checks each command against its type's schema again, credential or not", async () => {
    const credential = await internalSigner(internalSecret(config), 'strata-gateway')();
    const invalid = await forged('invalid-1', { by: -5, extra: true }, credential);
    assert.equal(invalid?.code, grpc.status.INVALID_ARGUMENT, String(invalid?.message));
    assert.deepEqual(await eventsOf('invalid-1'), [], 'nothing appended');
  });
});
