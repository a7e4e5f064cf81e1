/**
 * Behind a load balancer a client's `GET /commands/{id}` lands on any gateway: two
 * gateways on two hosts (other loopback addresses of this machine, as in
 * hosts.test.ts), one processor. Commands sent to gateway A go straight to their owner
 * (the direct route); gateway B answers their outcomes, accepted and refused alike,
 * from the command-results topic, where each outcome is written once, with its events;
 * so does a gateway started afterwards (a rolling restart), which reads the last minute's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { deleteWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { startCommandProcessor, type CommandProcessor } from '../../write-side/command-processor/command-processor.js';
import { decodeOutcome } from '../../write-side/command-record.js';
import { startGateway, type Gateway } from '../../write-side/gateway/gateway.js';
import counterApp from '../apps/counter-app.js';
import { logger, uniqueName } from '../support/test-context.js';
import { readWholeTopic } from '../support/topic-reader.js';

const env = { ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-any-gateway'), STRATA_PARTITIONS: '2' };
const config = loadConfig(env);
const topics = writeSideTopics(config);
const log = createLogClient(config, { clientId: 'strata-test', logger });

/** A gateway bound to `host`, as on a host of its own. */
const gatewayOn = (host: string) => {
  const hosted = loadConfig({ ...env, STRATA_BIND_HOST: host });
  return startGateway({ log: createLogClient(hosted, { clientId: 'strata-test', logger }), config: hosted, domain: counterApp.domain, logger, port: 0, grpcPort: 0 });
};

/** The status and body of an answer; a problem's `instance` names the request, so it is left out. */
async function answerOf(response: Response) {
  const { instance: _instance, ...body } = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body };
}

describe('any gateway answers for any command', () => {
  let processor: CommandProcessor;
  let gatewayA: Gateway;
  let gatewayB: Gateway;
  /** A's answers, by command id. */
  const answered = new Map<string, Awaited<ReturnType<typeof answerOf>>>();

  const post = (type: string, body: unknown, commandId: string) =>
    fetch(`${gatewayA.url}/commands/${type}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': commandId },
      body: JSON.stringify(body),
    }).then(answerOf);
  const outcomeAt = (gateway: Gateway, commandId: string) => fetch(`${gateway.url}/commands/${commandId}`).then(answerOf);

  before(async () => {
    processor = await startCommandProcessor({ log, config, domain: counterApp.domain, logger });
    gatewayA = await gatewayOn('127.0.0.2');
    gatewayB = await gatewayOn('127.0.0.3');
  });

  after(async () => {
    await gatewayA.stop();
    await gatewayB.stop();
    await processor.stop();
    await deleteWriteSideTopics(log, config);
  });

  it('answers on gateway B the outcome of a command gateway A handed to its owner directly', { timeout: 60_000 }, async () => {
    assert.match(gatewayA.url, /^http:\/\/127\.0\.0\.2:/);
    assert.match(gatewayB.url, /^http:\/\/127\.0\.0\.3:/);
    const sent = [
      { id: 'any-accepted', type: 'Increment', body: { aggregateId: 'c-1', data: { by: 2 } }, status: 200 },
      { id: 'any-conflict', type: 'Increment', body: { aggregateId: 'c-1', expectedVersion: 7, data: { by: 1 } }, status: 409 },
      { id: 'any-not-found', type: 'Reset', body: { aggregateId: 'ghost', data: {} }, status: 404 },
      { id: 'any-reset', type: 'Reset', body: { aggregateId: 'c-1', data: {} }, status: 200 },
      { id: 'any-rule', type: 'Reset', body: { aggregateId: 'c-1', data: {} }, status: 422 },
    ];
    for (const { id, type, body, status } of sent) {
      const atA = await post(type, body, id);
      assert.equal(atA.status, status, `${id}: ${JSON.stringify(atA.body)}`);
      answered.set(id, atA);
      // At once: the outcome is committed before A answers, and B waits a moment for its record.
      assert.deepEqual(await outcomeAt(gatewayB, id), atA, `${id} on gateway B`);
      assert.deepEqual(await outcomeAt(gatewayA, id), atA, `${id} on gateway A`);
    }
    assert.deepEqual(await readWholeTopic(log, topics.commands, { partitions: 2 }), [], 'every command took the direct route');
    const results = (await readWholeTopic(log, topics.results, { partitions: 2 })).map((record) => decodeOutcome(record).commandId);
    assert.deepEqual(results.sort(), sent.map(({ id }) => id).sort(), 'each outcome on the results topic once');
  });

  it('answers them on a gateway started afterwards too', { timeout: 60_000 }, async () => {
    const restarted = await gatewayOn('127.0.0.3');
    try {
      for (const [id, atA] of answered) assert.deepEqual(await outcomeAt(restarted, id), atA, `${id} on the new gateway`);
    } finally {
      await restarted.stop();
    }
  });

  it('answers 404 for a command no gateway knows', { timeout: 10_000 }, async () => {
    const unknown = await outcomeAt(gatewayB, 'never-sent');
    assert.equal(unknown.status, 404);
  });
});
