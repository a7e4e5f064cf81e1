/**
 * The write API end to end: HTTP → gateway → the partition's owner (directly, or
 * through the commands topic when no owner takes commands directly) → events and
 * outcome → HTTP answer, on the neutral test domain (test/apps/counter-app.ts).
 * Bad input is checked against the events topic too: a refused request appends
 * nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { LogRecord } from '../../shared/kafka/log-client.js';
import { decodeEvent, headerValue, type EventEnvelope } from '../../shared/event-envelope.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { startCommandProcessor, type CommandProcessor } from '../../write-side/command-processor/command-processor.js';
import { startGateway, type Gateway } from '../../write-side/gateway/gateway.js';
import { commandServiceProto } from '../../write-side/gateway/grpc-command-service.js';
import { deleteWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { logger, uniqueName } from '../support/test-context.js';
import { readWholeTopic } from '../support/topic-reader.js';
import counterApp from '../apps/counter-app.js';

const config = loadConfig({ ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-gateway'), STRATA_PARTITIONS: '2' });
const topics = writeSideTopics(config);
const log = createLogClient(config, { clientId: 'strata-test', logger });

const records = (topic: string) => readWholeTopic(log, topic, { partitions: 2 });

const events = async (): Promise<EventEnvelope[]> => (await records(topics.events)).map((message) => decodeEvent(message));

/** The traceparent headers of the records of command `commandId`. */
const traceparentsOf = (list: LogRecord[], commandId: string) =>
  list.filter((message) => headerValue(message.headers, 'strata-command-id') === commandId).map((message) => headerValue(message.headers, 'traceparent'));

describe('write API', () => {
  let gateway: Gateway;
  let processor: CommandProcessor;

  const post = async (type: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${gateway.url}/commands/${type}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
  };

  before(async () => {
    gateway = await startGateway({ log, config, domain: counterApp.domain, logger, port: 0, grpcPort: 0 });
    processor = await startCommandProcessor({ log, config, domain: counterApp.domain, logger });
  });

  after(async () => {
    await gateway.stop();
    await processor.stop();
    await deleteWriteSideTopics(log, config);
  });

  it('accepts a command and answers with its version, events and consistency token', async () => {
    const answer = await post('Increment', { aggregateId: 'c-1', data: { by: 1, label: 'kitchen' } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.aggregateId, 'c-1');
    assert.equal(answer.body.version, 1);
    assert.deepEqual(answer.body.events, ['Incremented']);
    assert.equal(typeof answer.body.consistencyToken, 'string');
    assert.equal(typeof answer.body.commandId, 'string');
  });

  it('returns the original outcome for a repeated Idempotency-Key, appending nothing', async () => {
    const first = await post('Increment', { aggregateId: 'c-1', data: { by: 5 } }, { 'idempotency-key': 'increment-1' });
    const count = (await events()).length;
    const again = await post('Increment', { aggregateId: 'c-1', data: { by: 5 } }, { 'idempotency-key': 'increment-1' });
    assert.equal(first.status, 200);
    assert.deepEqual(again, first);
    assert.equal((await events()).length, count);
    const status = await fetch(`${gateway.url}/commands/increment-1`);
    assert.equal(status.status, 200);
  });

  it('refuses an Idempotency-Key used for another command (aggregate, type or body) with 422, running nothing', async () => {
    const key = { 'idempotency-key': 'bound-1' };
    assert.equal((await post('Increment', { aggregateId: 'c-bound', data: { by: 2, label: 'a' } }, key)).status, 200);
    const same = await post('Increment', { aggregateId: 'c-bound', data: { label: 'a', by: 2 } }, key);
    assert.equal(same.status, 200, 'the same command, its keys in another order');
    const count = (await events()).length;
    for (const [type, body, differs] of [
      ['Increment', { aggregateId: 'c-other', data: { by: 2, label: 'a' } }, ['aggregateId']],
      ['Increment', { aggregateId: 'c-bound', data: { by: 3, label: 'a' } }, ['body']],
      ['Reset', { aggregateId: 'c-bound', data: {} }, ['commandType', 'body']],
    ] as const) {
      const answer = await post(type, body, key);
      assert.equal(answer.status, 422, JSON.stringify(answer.body));
      assert.equal(answer.body.type, 'https://strata.dev/problems/idempotency-key-reused');
      assert.deepEqual(answer.body.differs, differs);
    }
    assert.equal((await events()).length, count, 'nothing appended');
  });

  it('answers a stale expectedVersion with 409 and the current version', async () => {
    const answer = await post('Increment', { aggregateId: 'c-1', expectedVersion: 0, data: { by: 1 } });
    assert.equal(answer.status, 409);
    assert.match(answer.type ?? '', /^application\/problem\+json/);
    assert.equal(answer.body.currentVersion, 2);
  });

  it('answers a business-rule violation with 422', async () => {
    // c-2 is incremented, then reset to 0: another Reset breaks the counter's rule.
    assert.equal((await post('Increment', { aggregateId: 'c-2', data: { by: 3 } })).status, 200);
    assert.equal((await post('Reset', { aggregateId: 'c-2', data: {} })).status, 200);
    const answer = await post('Reset', { aggregateId: 'c-2', data: {} });
    assert.equal(answer.status, 422);
    assert.match(String(answer.body.detail), /already zero/);
  });

  it('hands commands straight to the owner (no command record) and carries the trace context to the events', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = await post('Increment', { aggregateId: 'c-1', data: { by: 1 } }, { traceparent, 'idempotency-key': 'traced-1' });
    const untraced = await post('Increment', { aggregateId: 'c-1', data: { by: 1 } }, { 'idempotency-key': 'untraced-1' });
    assert.equal(traced.status, 200);
    assert.equal(untraced.status, 200);
    assert.deepEqual(await records(topics.commands), [], 'the direct route writes no command record');
    const eventRecords = await records(topics.events);
    assert.deepEqual(traceparentsOf(eventRecords, 'traced-1'), [traceparent]);
    // Without one, the gateway starts a trace: a valid traceparent on the event.
    assert.match(traceparentsOf(eventRecords, 'untraced-1')[0] ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('documents every command type in OpenAPI at /docs, from the schemas it validates with', async () => {
    const spec = (await (await fetch(`${gateway.url}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: unknown }> } } }>;
    };
    assert.match(spec.openapi, /^3\./);
    for (const type of counterApp.domain.commandTypes) assert.ok(spec.paths[`/commands/${type}`]?.post, `${type} is documented`);
    const increment = JSON.stringify(spec.paths['/commands/Increment']?.post?.requestBody?.content['application/json']?.schema);
    assert.match(increment, /"maximum":1000[,}]/);
    assert.equal((await fetch(`${gateway.url}/docs`)).status, 200);
  });

  it('offers the same over gRPC: accepted, idempotent, and refusals as status codes with the problem', async () => {
    const definition = protoLoader.loadSync(commandServiceProto, { keepCase: true, longs: Number, defaults: true, oneofs: true });
    const { CommandService } = (grpc.loadPackageDefinition(definition) as unknown as { strata: { write: { v1: { CommandService: grpc.ServiceClientConstructor } } } }).strata.write.v1;
    const client = new CommandService(`127.0.0.1:${gateway.grpcPort}`, grpc.credentials.createInsecure());
    const call = (method: string, request: object) =>
      new Promise<{ error: grpc.ServiceError | null; response: Record<string, unknown> | undefined }>((resolve) => {
        const fn = client[method] as (req: object, cb: (error: grpc.ServiceError | null, response?: Record<string, unknown>) => void) => void;
        fn.call(client, request, (error, response) => { resolve({ error, response }); });
      });
    try {
      const request = { command_type: 'Increment', aggregate_id: 'c-1', data_json: '{"by":2}', command_id: 'grpc-1' };
      const first = await call('Submit', request);
      assert.equal(first.error, null);
      const accepted = first.response?.accepted as { version: number; events: string[] };
      assert.deepEqual(accepted.events, ['Incremented']);
      const again = await call('Submit', request);
      assert.deepEqual(again.response, first.response, 'same command id, same outcome');
      assert.deepEqual((await call('GetOutcome', { command_id: 'grpc-1' })).response, first.response);

      const problem = (error: grpc.ServiceError | null) => JSON.parse(String(error?.metadata.get('problem-json')[0])) as Record<string, unknown>;
      const invalid = await call('Submit', { ...request, command_id: '', data_json: '{"by":0}' });
      assert.equal(invalid.error?.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(problem(invalid.error).field, '/data/by');
      const unknown = await call('Submit', { ...request, command_id: '', command_type: 'Decrement' });
      assert.equal(unknown.error?.code, grpc.status.NOT_FOUND);
      const stale = await call('Submit', { ...request, command_id: '', expected_version: 1 });
      assert.equal(stale.error?.code, grpc.status.ABORTED);
      assert.equal(problem(stale.error).currentVersion, accepted.version);
      const refused = await call('Submit', { command_type: 'Reset', aggregate_id: 'c-2', data_json: '{}' });
      assert.equal(refused.error?.code, grpc.status.FAILED_PRECONDITION);
      // The same bounds as HTTP: a message over 1 MiB, a correlation id that is not an identifier.
      const before = (await events()).length;
      const large = await call('Submit', { ...request, command_id: '', data_json: JSON.stringify({ by: 1, pad: 'x'.repeat(1_100_000) }) });
      assert.equal(large.error?.code, grpc.status.RESOURCE_EXHAUSTED);
      const rambling = await call('Submit', { ...request, command_id: '', correlation_id: 'c'.repeat(10_000) });
      assert.equal(rambling.error?.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(problem(rambling.error).field, '/correlation_id');
      assert.equal((await events()).length, before, 'nothing appended');
    } finally {
      client.close();
    }
  });

  it('refuses bad input with the right problem and appends nothing', async () => {
    const before = (await events()).length;
    const cases: [string, unknown, Record<string, string>, number, RegExp?][] = [
      ['Increment', '{"aggregateId": "c-1", ', {}, 400],
      ['Increment', { aggregateId: 'c-1', data: { by: 1 } }, { 'content-type': 'text/plain' }, 415],
      ['Increment', { aggregateId: 'c-1', data: { by: 1, pad: 'x'.repeat(1_100_000) } }, {}, 413],
      ['Decrement', { aggregateId: 'c-1', data: {} }, {}, 404],
      ['Increment', { aggregateId: 'c-1', data: { by: 0 } }, {}, 400, /\/data\/by/],
      ['Increment', { aggregateId: 'c-1', data: {} }, {}, 400, /\/data\/by/],
      ['Increment', { aggregateId: 'bad id!', data: { by: 1 } }, {}, 400, /\/aggregateId/],
      ['Increment', { aggregateId: 'c-1', data: { by: 1, extra: true } }, {}, 400, /\/data\/extra/],
      ['Increment', { aggregateId: 'c-3', data: { by: 1, label: 'x'.repeat(101) } }, {}, 400, /\/data\/label/],
      ['Increment', { aggregateId: 'c-1', data: { by: 1 } }, { 'idempotency-key': 'x'.repeat(200) }, 400],
      // Refused by the decider, not the gateway: a counter never incremented does not exist.
      ['Reset', { aggregateId: 'ghost', data: {} }, {}, 404],
    ];
    for (const [type, body, headers, status, field] of cases) {
      const answer = await post(type, body, headers);
      assert.equal(answer.status, status, `${type} ${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(answer.body)}`);
      assert.match(answer.type ?? '', /^application\/problem\+json/);
      assert.equal(answer.body.status, status);
      if (field) assert.match(String(answer.body.field), field);
      assert.doesNotMatch(JSON.stringify(answer.body), /at .*\.js:\d+/, 'no stack trace');
    }
    assert.equal((await events()).length, before);
  });
});

describe('write API, through the commands topic', () => {
  // A processor that takes no direct commands advertises no address: the gateway produces to the topic.
  const topicConfig = loadConfig({ ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-gateway-topic'), STRATA_PARTITIONS: '2' });
  const processorConfig = { ...topicConfig, writeSide: { ...topicConfig.writeSide, commandRoute: 'topic' as const } };
  const topicTopics = writeSideTopics(topicConfig);
  let gateway: Gateway;
  let processor: CommandProcessor;

  before(async () => {
    gateway = await startGateway({ log, config: topicConfig, domain: counterApp.domain, logger, port: 0, grpcPort: 0 });
    processor = await startCommandProcessor({ log, config: processorConfig, domain: counterApp.domain, logger });
  });

  after(async () => {
    await gateway.stop();
    await processor.stop();
    await deleteWriteSideTopics(log, topicConfig);
  });

  it('falls back to the commands topic when no owner takes commands directly, the trace context on command and event', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const response = await fetch(`${gateway.url}/commands/Increment`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent, 'idempotency-key': 'via-topic-1' },
      body: JSON.stringify({ aggregateId: 'c-9', data: { by: 4 } }),
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { version: number }).version, 1);
    const read = (topic: string) => readWholeTopic(log, topic, { partitions: 2 });
    assert.deepEqual(traceparentsOf(await read(topicTopics.commands), 'via-topic-1'), [traceparent]);
    assert.deepEqual(traceparentsOf(await read(topicTopics.events), 'via-topic-1'), [traceparent]);
  });
});
