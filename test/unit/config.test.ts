import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClusterConnectionPool } from '@elastic/elasticsearch';
import { loadConfig, redactUrl, settings, splitUrls } from '../../shared/config.js';
import { createElasticsearch } from '../../shared/elasticsearch-client.js';
import { packageRoot } from '../../shared/package-files.js';
import { ConfigError } from '../../shared/errors.js';

describe('configuration', () => {
  it('has a documented default for every setting', () => {
    const config = loadConfig({});
    assert.equal(config.kafka.port, 9092);
    assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']);
    assert.equal(config.redis.url, 'redis://127.0.0.1:6380');
    assert.equal(config.stack.dir, join(packageRoot, '.strata'));
  });

  it('derives client addresses from the stack ports unless they are set', () => {
    const moved = loadConfig({ STRATA_KAFKA_PORT: '19092', STRATA_ELASTICSEARCH_PORT: '19200' });
    assert.deepEqual(moved.kafka.brokers, ['127.0.0.1:19092']);
    assert.equal(moved.elasticsearch.url, 'http://127.0.0.1:19200');

    const external = loadConfig({ STRATA_KAFKA_BROKERS: 'k1:9092, k2:9092', STRATA_REDIS_URL: 'redis://cache:6379' });
    assert.deepEqual(external.kafka.brokers, ['k1:9092', 'k2:9092']);
    assert.equal(external.redis.url, 'redis://cache:6379');
  });

  it('starts a new saga where it is told, else at the start of its process', () => {
    assert.equal(loadConfig({ STRATA_SAGA_START_AT: '2026-12-07T09:30:00Z' }).saga.startAt.toISOString(), '2026-12-07T09:30:00.000Z');
    assert.equal(loadConfig({}).saga.startAt.getTime(), Math.trunc(performance.timeOrigin));
  });

  it('binds loopback by default, and advertises the bind host, or the host name for a wildcard', () => {
    assert.deepEqual(loadConfig({}).network, { bindHost: '127.0.0.1', advertisedHost: '127.0.0.1' });
    assert.deepEqual(loadConfig({ STRATA_BIND_HOST: '10.0.0.5' }).network, { bindHost: '10.0.0.5', advertisedHost: '10.0.0.5' });
    assert.deepEqual(loadConfig({ STRATA_BIND_HOST: '0.0.0.0' }).network, { bindHost: '0.0.0.0', advertisedHost: hostname() });
    assert.deepEqual(loadConfig({ STRATA_BIND_HOST: '::', STRATA_ADVERTISED_HOST: 'processor-1.internal' }).network, { bindHost: '::', advertisedHost: 'processor-1.internal' });
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ STRATA_ZIPKIN_PORT: '' }).zipkin.port, 9411);
  });

  const invalid: [string, string, RegExp][] = [
    ['STRATA_KAFKA_PORT', 'abc', /TCP port/],
    ['STRATA_REDIS_PORT', '70000', /TCP port/],
    ['STRATA_ELASTICSEARCH_HEAP', '1.5 GB', /heap size/],
    ['STRATA_KAFKA_BROKERS', 'localhost', /host:port/],
    ['STRATA_ZIPKIN_URL', 'not a url', /absolute URL/],
    ['STRATA_LOG_LEVEL', 'verbose', /one of/],
    ['STRATA_ELASTICSEARCH_USER', 'Root User', /user name/],
    ['STRATA_SAGA_START_AT', 'yesterday', /ISO 8601/],
    ['STRATA_BIND_HOST', 'http://10.0.0.5', /host name or an IP address/],
    ['STRATA_SAGA_START_AT', '2026-13-40T00:00:00Z', /ISO 8601/],
  ];
  for (const [variable, value, reason] of invalid) {
    it(`rejects ${variable}=${value} with a message naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.variable === variable &&
          error.message.startsWith(`${variable}=`) &&
          reason.test(error.message),
      );
    });
  }

  it('is listed in full, with its defaults, in docs/configuration.md', () => {
    const table = readFileSync(join(packageRoot, 'docs', 'configuration.md'), 'utf8');
    for (const entry of Object.values(settings)) {
      const documented = entry.fallback ?? entry.derivedFrom ?? '';
      const row = table.split('\n').find((line) => line.startsWith(`| \`${entry.variable}\``));
      assert.ok(row, `${entry.variable} has a row in the configuration table of docs/configuration.md`);
      assert.ok(row.includes(`\`${documented}\``), `${entry.variable}'s row gives its default ${documented}`);
    }
  });
});

describe('store access', () => {
  const stack = join(packageRoot, '.strata');
  const security = join(stack, 'security');

  it("reaches the local stack's Redis and Elasticsearch over TLS as its user when the stack is secured", () => {
    const config = loadConfig({ STRATA_STACK_SECURITY: 'on' });
    assert.deepEqual(
      { ...config.redis },
      { url: 'rediss://127.0.0.1:6380', port: 6380, login: 'strata', passwordFile: join(security, 'redis-password'), ca: join(security, 'ca.pem') },
    );
    assert.equal(config.elasticsearch.url, 'https://127.0.0.1:9200');
    assert.equal(config.elasticsearch.passwordFile, join(security, 'elasticsearch-password'));
    assert.equal(loadConfig({}).redis.login, undefined, 'plain, and nobody to sign in as, by default');
  });

  it("takes nothing from the stack for a server set by URL, and the settings over the stack's", () => {
    const elsewhere = loadConfig({ STRATA_STACK_SECURITY: 'on', STRATA_REDIS_URL: 'rediss://cache:6380' });
    assert.deepEqual([elsewhere.redis.login, elsewhere.redis.passwordFile, elsewhere.redis.ca], [undefined, undefined, undefined]);
    const set = loadConfig({ STRATA_STACK_SECURITY: 'on', STRATA_ELASTICSEARCH_LOGIN: 'reader', STRATA_ELASTICSEARCH_PASSWORD: 'pw' });
    assert.deepEqual([set.elasticsearch.login, set.elasticsearch.password, set.elasticsearch.passwordFile], ['reader', 'pw', undefined]);
  });

  it('refuses a CA for a plain URL, or one that is not there, naming the variable', () => {
    const ca = join(packageRoot, 'package.json'); // any file that exists
    assert.throws(() => loadConfig({ STRATA_REDIS_CA: ca }), (error: unknown) => error instanceof ConfigError && error.variable === 'STRATA_REDIS_CA' && /rediss:\/\//.test(error.message));
    assert.throws(() => loadConfig({ STRATA_ELASTICSEARCH_CA: join(stack, 'no-such-ca.pem') }), (error: unknown) => error instanceof ConfigError && /no such file/.test(error.message));
    assert.equal(loadConfig({ STRATA_ELASTICSEARCH_URL: 'https://search:9200', STRATA_ELASTICSEARCH_CA: ca }).elasticsearch.ca, ca);
  });

  it("hides a URL's password wherever the URL is shown", () => {
    assert.equal(redactUrl('rediss://strata:s3cret@cache:6380/0'), 'rediss://strata:***@cache:6380/0');
    assert.equal(redactUrl('https://:key@search:9200'), 'https://:***@search:9200');
    assert.equal(redactUrl('redis://cache:6380'), 'redis://cache:6380');
    assert.throws(() => loadConfig({ STRATA_REDIS_URL: 'rediss://strata:s3cret@[bad' }), (error: unknown) => error instanceof ConfigError && !error.message.includes('s3cret'));
    assert.equal(redactUrl('http://search-1:9200,http://strata:s3cret@search-2:9200'), 'http://search-1:9200,http://strata:***@search-2:9200');
    assert.equal(redactUrl('rediss://strata:s3,cret@cache:6380'), 'rediss://strata:***@cache:6380');
  });

  it('reaches several Elasticsearch nodes, each with the same access, leaving out one that fails', async () => {
    const config = loadConfig({ STRATA_ELASTICSEARCH_URL: 'https://strata:pw@search-1:9200/, https://search-2:9200' });
    assert.equal(config.elasticsearch.url, 'https://strata:pw@search-1:9200,https://search-2:9200');
    assert.deepEqual(splitUrls(config.elasticsearch.url), ['https://strata:pw@search-1:9200', 'https://search-2:9200']);
    const ca = join(packageRoot, 'package.json');
    assert.throws(() => loadConfig({ STRATA_ELASTICSEARCH_URL: 'https://search-1:9200,http://search-2:9200', STRATA_ELASTICSEARCH_CA: ca }), (error: unknown) => error instanceof ConfigError && error.variable === 'STRATA_ELASTICSEARCH_CA');
    const client = createElasticsearch(config, { maxRetries: 0 });
    try {
      assert.ok(client.connectionPool instanceof ClusterConnectionPool, 'a node that failed is left out until it answers again');
      assert.equal(client.connectionPool.size, 2);
    } finally {
      await client.close();
    }
  });

  it("gives Strata's indices a replica where the cluster has a node for it, unless told how many", () => {
    assert.equal(loadConfig({}).elasticsearch.replicas, undefined);
    assert.equal(loadConfig({ STRATA_ELASTICSEARCH_REPLICAS: '2' }).elasticsearch.replicas, 2);
    assert.throws(() => loadConfig({ STRATA_ELASTICSEARCH_REPLICAS: 'one' }), (error: unknown) => error instanceof ConfigError && error.variable === 'STRATA_ELASTICSEARCH_REPLICAS');
  });
});
