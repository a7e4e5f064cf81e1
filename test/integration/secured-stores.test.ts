/**
 * Kafka, Redis and Elasticsearch secured (STRATA_STACK_SECURITY=on): a second stack of
 * the three, in a folder and on ports of its own, with TLS and a password each (Kafka:
 * SASL_SSL, SCRAM-SHA-512). Strata's own clients, a projector and a query service work
 * through it with the credentials the stack keeps for them; a wrong password, no
 * credentials or an unknown CA stops a start at once with one line naming the server;
 * a plain connection gets nothing.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../shared/config.js';
import { createElasticsearch } from '../../shared/elasticsearch-client.js';
import { StoreAccessError } from '../../shared/errors.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { packageRoot } from '../../shared/package-files.js';
import { createRedis } from '../../shared/redis-client.js';
import { checkStoreAccess, kafkaLetsIn } from '../../shared/store-access.js';
import { ensureWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { startProjector, type Projector } from '../../projections/projector.js';
import { startQueryService, type QueryService } from '../../read-side/query-service.js';
import { counterEvents } from '../support/counter-event-log.js';
import { appendEvents, takeFirst } from '../../bench/event-appender.js';
import { freePorts } from '../../infra/stack/ports.js';
import { strata, type Run } from '../support/strata-cli.js';
import { caughtUp } from '../support/projection-wait.js';
import { dumpReadModel, expectedReadModel } from '../support/read-model-dump.js';
import { config as sharedStack, logger, uniqueName } from '../support/test-context.js';
import counterApp, { counterSearch } from '../apps/counter-app.js';

const counterAppModule = join(packageRoot, 'dist', 'test', 'apps', 'counter-app.js');

const stackDir = mkdtempSync(join(tmpdir(), 'strata-secured-'));
chmodSync(stackDir, 0o755); // Elasticsearch's user must reach its data below

/** The secured stack's environment: its own folder and ports, everything else derived from them. */
async function securedEnv(): Promise<Record<string, string>> {
  const [redis, es, esTransport, kafka, kafkaController] = await freePorts(5);
  return {
    STRATA_STACK_DIR: stackDir,
    STRATA_STACK_SECURITY: 'on',
    STRATA_ARTIFACTS_DIR: sharedStack.stack.artifactsDir,
    STRATA_REDIS_PORT: String(redis),
    STRATA_ELASTICSEARCH_PORT: String(es),
    STRATA_ELASTICSEARCH_TRANSPORT_PORT: String(esTransport),
    STRATA_ELASTICSEARCH_HEAP: '512m',
    STRATA_KAFKA_PORT: String(kafka),
    STRATA_KAFKA_CONTROLLER_PORT: String(kafkaController),
    STRATA_KAFKA_HEAP: '512m',
    STRATA_TOPIC_PREFIX: uniqueName('test-secured'),
    STRATA_PARTITIONS: '2',
    // Empty means unset: derived from the stack, whatever the caller's environment says.
    ...Object.fromEntries(
      ['REDIS_URL', 'REDIS_LOGIN', 'REDIS_PASSWORD', 'REDIS_CA', 'ELASTICSEARCH_URL', 'ELASTICSEARCH_LOGIN', 'ELASTICSEARCH_PASSWORD', 'ELASTICSEARCH_API_KEY', 'ELASTICSEARCH_CA', 'KAFKA_BROKERS', 'KAFKA_SECURITY_PROTOCOL', 'KAFKA_LOGIN', 'KAFKA_PASSWORD', 'KAFKA_CA'].map(
        (name) => [`STRATA_${name}`, ''],
      ),
    ),
  };
}

/** How a start that is refused looks: at once, one line naming the server, no stack trace. */
function assertRefused(run: Run, server: RegExp): void {
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, server);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  assert.ok(run.ms < 20_000, `refused in ${String(run.ms)} ms, not retried`);
}

describe('secured Kafka, Redis and Elasticsearch (STRATA_STACK_SECURITY=on)', { timeout: 600_000 }, () => {
  let env: Record<string, string>;
  let config: Config;

  before(async () => {
    env = await securedEnv();
    const began = Date.now();
    const up = await strata(['infra', 'up', 'kafka', 'redis', 'elasticsearch', '--json'], env);
    assert.equal(up.code, 0, up.stderr);
    const rows = JSON.parse(up.stdout) as { server: string; address: string; state: string }[];
    assert.deepEqual(rows.map((row) => [row.server, row.state, row.address]), [
      ['kafka', 'running', `127.0.0.1:${env.STRATA_KAFKA_PORT ?? ''}`],
      ['elasticsearch', 'running', `https://127.0.0.1:${env.STRATA_ELASTICSEARCH_PORT ?? ''}`],
      ['redis', 'running', `rediss://127.0.0.1:${env.STRATA_REDIS_PORT ?? ''}`],
    ]);
    process.stderr.write(`# the secured stack (Kafka, Redis, Elasticsearch) started in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
    config = loadConfig({ ...process.env, ...env });
  });

  after(async () => {
    const down = await strata(['infra', 'down', 'kafka', 'redis', 'elasticsearch', '--purge'], env);
    assert.equal(down.code, 0, down.stderr);
    rmSync(stackDir, { recursive: true, force: true });
  });

  it("projects and answers queries over TLS, signed in with the stack's credentials", async () => {
    assert.equal(config.kafka.security.protocol, 'SASL_SSL');
    assert.ok(await kafkaLetsIn(config), 'Kafka answers and lets the services in');
    assert.deepEqual(await checkStoreAccess(config, ['redis', 'elasticsearch']), [], 'both answer and let the services in');
    const log = createLogClient(config, { clientId: 'strata-test', logger });
    const redis = createRedis(config);
    const elasticsearch = createElasticsearch(config);
    let projector: Projector | undefined;
    let service: QueryService | undefined;
    try {
      await ensureWriteSideTopics(log, config);
      const events = takeFirst(300, counterEvents({ seed: 28, counters: 20 }));
      await appendEvents(log, writeSideTopics(config).events, events);
      projector = await startProjector({ log, config, logger, projections: counterApp.projections, events: counterApp.domain.events });
      await caughtUp(log, config, counterApp.projections);
      for (const projection of counterApp.projections) {
        assert.deepStrictEqual(await dumpReadModel(config, projection, { redis, elasticsearch }), expectedReadModel(projection, events), projection.name);
      }
      service = await startQueryService({ config, logger, queries: counterApp.queries, port: 0, grpcPort: 0 });
      const counter = events[0]?.aggregateId ?? '';
      const byKey = await fetch(`${service.url}/counters/${counter}`);
      assert.equal(byKey.status, 200, 'a Redis read');
      assert.equal(((await byKey.json()) as { counterId: string }).counterId, counter);
      const search = await fetch(`${service.url}/counters?size=5`);
      assert.equal(search.status, 200, 'an Elasticsearch search');
      assert.equal(((await search.json()) as { total: number }).total, Object.keys(expectedReadModel(counterSearch, events)).length);
    } finally {
      await service?.stop();
      await projector?.stop();
      redis.disconnect();
      await elasticsearch.close();
    }
  });

  it('refuses to start with a wrong password, naming the server', async () => {
    const start = ['start', '--role', 'query', '--no-stack', '--app', counterAppModule];
    const redisPort = env.STRATA_REDIS_PORT ?? '';
    const esPort = env.STRATA_ELASTICSEARCH_PORT ?? '';
    assertRefused(
      await strata(start, { ...env, STRATA_REDIS_PASSWORD: 'not-the-password' }),
      new RegExp(`^error: Redis at rediss://127\\.0\\.0\\.1:${redisPort} refused the credentials \\(WRONGPASS`, 'm'),
    );
    assertRefused(
      await strata(start, { ...env, STRATA_KAFKA_PASSWORD: 'not-the-password' }),
      new RegExp(`^error: Kafka at 127\\.0\\.0\\.1:${env.STRATA_KAFKA_PORT ?? ''} refused the credentials`, 'm'),
    );
    assertRefused(
      await strata(start, { ...env, STRATA_ELASTICSEARCH_PASSWORD: 'not-the-password' }),
      new RegExp(`^error: Elasticsearch at https://127\\.0\\.0\\.1:${esPort} refused the credentials \\(401: unable to authenticate user \\[strata\\]`, 'm'),
    );
  });

  it('refuses no credentials, an API key it does not know, and a CA that did not sign the certificate', async () => {
    const refusals: [Partial<Record<string, string>>, RegExp][] = [
      [{ STRATA_REDIS_URL: config.redis.url, STRATA_REDIS_CA: config.redis.ca }, /^Redis at .* refused the credentials \(NOAUTH/],
      [{ STRATA_ELASTICSEARCH_URL: config.elasticsearch.url, STRATA_ELASTICSEARCH_CA: config.elasticsearch.ca }, /^Elasticsearch at .* refused the credentials \(401: missing authentication credentials/],
      [{ STRATA_ELASTICSEARCH_API_KEY: Buffer.from('unknown-id:unknown-key').toString('base64') }, /^Elasticsearch at .* refused the credentials \(401/],
      [{ STRATA_REDIS_URL: config.redis.url }, /^Redis at .*: the TLS handshake failed \(self-signed certificate in certificate chain\)/],
      [{ STRATA_ELASTICSEARCH_URL: config.elasticsearch.url }, /^Elasticsearch at .*: the TLS handshake failed/],
    ];
    const kafkaAt = { STRATA_KAFKA_BROKERS: config.kafka.brokers.join(',') };
    const kafkaRefusals: [Partial<Record<string, string>>, RegExp][] = [
      [{ ...kafkaAt, STRATA_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', STRATA_KAFKA_LOGIN: 'strata', STRATA_KAFKA_PASSWORD: 'not-the-password', STRATA_KAFKA_CA: config.kafka.security.ca }, /^Kafka at .* refused the credentials/],
      [{ ...kafkaAt, STRATA_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', STRATA_KAFKA_LOGIN: 'strata', STRATA_KAFKA_PASSWORD: 'any' }, /^Kafka at .*: the TLS handshake failed \(.*(unable to verify|self-signed)/],
    ];
    for (const [settings, refusal] of kafkaRefusals) {
      const check = kafkaLetsIn(loadConfig({ ...process.env, ...env, ...settings }));
      await assert.rejects(check, (error) => error instanceof StoreAccessError && refusal.test(error.message));
    }
    for (const [settings, refusal] of refusals) {
      const store = Object.keys(settings).some((name) => name.startsWith('STRATA_REDIS')) ? 'redis' : 'elasticsearch';
      await assert.rejects(checkStoreAccess(loadConfig({ ...process.env, ...env, ...settings }), [store]), (error) => error instanceof StoreAccessError && refusal.test(error.message));
    }
  });

  it('answers nothing to a plain connection on its TLS ports', async () => {
    const plain = new Redis(Number(env.STRATA_REDIS_PORT), '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
    plain.on('error', () => undefined);
    await assert.rejects(plain.connect().then(() => plain.ping()));
    plain.disconnect();
    await assert.rejects(fetch(`http://127.0.0.1:${env.STRATA_ELASTICSEARCH_PORT ?? ''}/_cluster/health`, { signal: AbortSignal.timeout(5000) }));
    const plainKafka = loadConfig({ ...process.env, ...env, STRATA_KAFKA_BROKERS: `127.0.0.1:${env.STRATA_KAFKA_PORT ?? ''}`, STRATA_KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' });
    assert.equal(await kafkaLetsIn(plainKafka), false, 'Kafka answers nothing to a plain client');
  });

  it('never shows a password: strata config hides the secrets and the one in a URL', async () => {
    const run = await strata(['config', '--json'], { ...env, STRATA_REDIS_URL: 'rediss://strata:in-the-url@cache:6380', STRATA_ELASTICSEARCH_PASSWORD: 'set-apart' });
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /in-the-url|set-apart/);
    const rows = JSON.parse(run.stdout) as { variable: string; value: string | null }[];
    assert.equal(rows.find((row) => row.variable === 'STRATA_REDIS_URL')?.value, 'rediss://strata:***@cache:6380');
    assert.equal(rows.find((row) => row.variable === 'STRATA_ELASTICSEARCH_PASSWORD')?.value, '(set, hidden)');
  });
});
