/**
 * Command processors against the real broker: gapless versions, idempotent retries,
 * optimistic concurrency, and state rebuilt by a new owner, on the neutral test
 * domain (test/apps/counter-app.ts). Commands are produced straight to the commands
 * topic here; the gateway has its own tests.
 */
import { defaultTenant } from '../../shared/auth/principal.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { decodeEvent, type EventEnvelope } from '../../shared/event-envelope.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import type { LogProducer } from '../../shared/kafka/log-client.js';
import { startCommandProcessor, type CommandProcessor } from '../../write-side/command-processor/command-processor.js';
import { decodeOutcome, encodeCommand, type CommandOutcome, type CommandRecord } from '../../write-side/command-record.js';
import { deleteWriteSideTopics, ensureWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { logger, uniqueName } from '../support/test-context.js';
import counterApp from '../apps/counter-app.js';

const config = loadConfig({ ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-processor'), STRATA_PARTITIONS: '2', STRATA_CHECKPOINT_EVERY: '5' });
const topics = writeSideTopics(config);
const log = createLogClient(config, { clientId: 'strata-test', logger });
const partitions = [0, 1].map((partition) => ({ partition, from: 0n }));

async function readAll<T>(topic: string, decode: (value: Buffer) => T): Promise<T[]> {
  const records: T[] = [];
  await log.readToEnd({
    topic,
    partitions,
    onRecords: (_, found) => {
      for (const { value } of found) if (value) records.push(decode(value));
    },
  });
  return records;
}

async function outcomesOf(commandIds: string[]): Promise<Map<string, CommandOutcome>> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const outcomes = await readAll(topics.results, (value) => decodeOutcome({ value }));
    const byId = new Map(outcomes.map((outcome) => [outcome.commandId, outcome]));
    if (commandIds.every((id) => byId.has(id))) return byId;
    await sleep(200);
  }
  throw new Error('the outcomes did not arrive');
}

const events = () => readAll(topics.events, (value) => decodeEvent({ value }));

function command(commandType: string, aggregateId: string, data: unknown, extra: Partial<CommandRecord> = {}): CommandRecord {
  const commandId = extra.commandId ?? randomUUID();
  const aggregateType = counterApp.domain.aggregateFor(commandType)?.type ?? 'unknown';
  return { commandId, commandType, tenant: defaultTenant, aggregateType, aggregateId, data, correlationId: commandId, submittedAt: new Date().toISOString(), ...extra };
}

describe('command processor', () => {
  let producer: LogProducer;
  let processor: CommandProcessor | undefined;
  const send = async (...commands: CommandRecord[]) => {
    await producer.send(topics.commands, commands.map((c) => encodeCommand(c)));
    return outcomesOf(commands.map((c) => c.commandId));
  };

  before(async () => {
    await ensureWriteSideTopics(log, config);
    producer = await log.producer();
    processor = await startCommandProcessor({ log, config, domain: counterApp.domain, logger });
  });

  after(async () => {
    await processor?.stop();
    await producer.stop();
    await deleteWriteSideTopics(log, config);
  });

  it('appends events with versions 1..n per aggregate and reports each outcome', async () => {
    const first = command('Increment', 'c-1', { by: 1, label: 'first' });
    const increments = [1, 2, 3].map((by) => command('Increment', 'c-1', { by }));
    // Another counter in the same batch, brought back to 0 (the next test's Reset is refused).
    const other = command('Increment', 'c-2', { by: 5 });
    const reset = command('Reset', 'c-2', {});
    const outcomes = await send(first, ...increments, other, reset);
    const versions = [first, ...increments].map((c) => {
      const outcome = outcomes.get(c.commandId);
      return outcome?.status === 'accepted' ? outcome.version : undefined;
    });
    assert.deepEqual(versions, [1, 2, 3, 4]);
    const history = await events();
    const c1 = history.filter((e) => e.aggregateId === 'c-1');
    assert.deepEqual(c1.map((e) => e.version), [1, 2, 3, 4]);
    assert.deepEqual(c1.map((e) => [e.type, (e.data as { value: number }).value]), [['Incremented', 1], ['Incremented', 2], ['Incremented', 4], ['Incremented', 7]]);
    assert.deepEqual(history.filter((e) => e.aggregateId === 'c-2').map((e) => [e.type, e.version]), [['Incremented', 1], ['Reset', 2]]);
  });

  it('answers a retried command id with its first outcome and appends nothing', async () => {
    const increment = command('Increment', 'c-1', { by: 10 });
    const first = (await send(increment)).get(increment.commandId);
    const before = (await events()).length;
    const again = (await send({ ...increment, data: { by: 999 } })).get(increment.commandId);
    assert.deepEqual(again, first);
    assert.equal((await events()).length, before);
  });

  it('refuses a stale expectedVersion with 409 and the current version, appending nothing', async () => {
    const before = await events();
    const stale = command('Increment', 'c-1', { by: 1 }, { expectedVersion: 2 });
    const outcome = (await send(stale)).get(stale.commandId);
    assert.equal(outcome?.status, 'rejected');
    assert.equal(outcome.problem.status, 409);
    assert.equal(outcome.problem.currentVersion, 5);
    assert.equal((await events()).length, before.length);
  });

  it('refuses a business-rule violation with 422, appending nothing', async () => {
    const before = await events();
    // c-2 is back at 0: a Reset is refused by the counter's rule.
    const reset = command('Reset', 'c-2', {});
    const outcome = (await send(reset)).get(reset.commandId);
    assert.equal(outcome?.status === 'rejected' && outcome.problem.status, 422);
    assert.equal((await events()).length, before.length);
  });

  it('rebuilds its state in a new owner: versions continue and old command ids are remembered', async () => {
    await processor?.stop();
    processor = await startCommandProcessor({ log, config, domain: counterApp.domain, logger });
    const next = command('Increment', 'c-1', { by: 1 }, { expectedVersion: 5 });
    const outcome = (await send(next)).get(next.commandId);
    assert.equal(outcome?.status === 'accepted' && outcome.version, 6);

    const history: EventEnvelope[] = await events();
    const secondIncrement = history.find((e) => e.aggregateId === 'c-1' && e.version === 2);
    assert.ok(secondIncrement);
    const retried = command('Increment', 'c-1', { by: 1 }, { commandId: secondIncrement.commandId });
    assert.equal((await send(retried)).get(retried.commandId)?.status, 'accepted');
    assert.equal((await events()).filter((e) => e.commandId === secondIncrement.commandId).length, 1);
  });
});
