/**
 * End-to-end tracing through the local Zipkin: the platform started as a user
 * starts it (`strata start`, each role its own process and service), a command
 * posted, its trace fetched from Zipkin by the id in the response's `traceparent`,
 * and the chain checked: gateway → processor → projector → the Redis and
 * Elasticsearch writes under each event's span, with no orphan spans. The same for
 * reads through the query service.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { loadConfig, projectRoot } from '../../shared/config.js';
import { freePortRange, freePorts } from '../support/free-ports.js';
import { uniqueName } from '../support/test-context.js';

interface ZipkinSpan {
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  localEndpoint: { serviceName: string };
  tags?: Record<string, string>;
}

describe('tracing', () => {
  it('shows one trace per command from the HTTP request to every read-model write, and one per read', { timeout: 180_000 }, async () => {
    const [gatewayPort, gatewayGrpcPort, queryGrpcPort] = await freePorts(3);
    const queryPort = await freePortRange(1);
    const env = {
      ...process.env,
      STRATA_TOPIC_PREFIX: uniqueName('test-tracing'),
      STRATA_PARTITIONS: '2',
      STRATA_GATEWAY_PORT: String(gatewayPort),
      STRATA_GATEWAY_GRPC_PORT: String(gatewayGrpcPort),
      STRATA_QUERY_PORT: String(queryPort),
      STRATA_QUERY_GRPC_PORT: String(queryGrpcPort),
      STRATA_LOG_LEVEL: 'warn',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    };
    const zipkin = loadConfig(env).zipkin.url;
    const platform = spawn(process.execPath, [join(projectRoot, 'dist', 'cli', 'main.js'), 'start', '--no-stack'], { env, stdio: 'ignore' });
    const gateway = `http://127.0.0.1:${String(gatewayPort)}`;
    const query = `http://127.0.0.1:${String(queryPort)}`;

    /** The trace once it holds every span `complete` asks for (spans arrive from several processes). */
    async function traceOf(traceparent: string | null, complete: (spans: ZipkinSpan[]) => boolean): Promise<ZipkinSpan[]> {
      const traceId = traceparent?.split('-')[1];
      assert.ok(traceId, `a traceparent in the response: ${String(traceparent)}`);
      const deadline = Date.now() + 60_000;
      let spans: ZipkinSpan[] = [];
      while (Date.now() < deadline) {
        const response = await fetch(`${zipkin}/api/v2/trace/${traceId}`);
        spans = response.ok ? ((await response.json()) as ZipkinSpan[]) : [];
        if (complete(spans)) return spans;
        await sleep(500);
      }
      assert.fail(`trace ${traceId} incomplete after 60 s: ${spans.map((span) => `${span.localEndpoint.serviceName}/${span.name}`).join(', ')}`);
    }
    const named = (spans: ZipkinSpan[], service: string, name: RegExp) =>
      spans.filter((span) => span.localEndpoint.serviceName === service && name.test(span.name));
    const assertNoOrphans = (spans: ZipkinSpan[]) => {
      const ids = new Set(spans.map((span) => span.id));
      const roots = spans.filter((span) => span.parentId === undefined);
      assert.equal(roots.length, 1, `one root: ${roots.map((span) => span.name).join(', ')}`);
      for (const span of spans) {
        if (span.parentId !== undefined) assert.ok(ids.has(span.parentId), `${span.localEndpoint.serviceName}/${span.name} has its parent in the trace`);
      }
    };
    const parentOf = (spans: ZipkinSpan[], span: ZipkinSpan) => spans.find((candidate) => candidate.id === span.parentId);

    try {
      for (const url of [gateway, query]) {
        const deadline = Date.now() + 90_000;
        while (!(await fetch(`${url}/readyz`).then((r) => r.ok, () => false))) {
          assert.ok(Date.now() < deadline, `${url} ready`);
          await sleep(250);
        }
      }

      const sku = 'traced-lamp';
      const written = await fetch(`${gateway}/commands/RegisterProduct`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ aggregateId: sku, data: { name: 'Traced lamp', description: 'lit', priceCents: 900, currency: 'EUR', tags: ['lamps'] } }),
      });
      assert.equal(written.status, 200);
      const { consistencyToken } = (await written.json()) as { consistencyToken: string };
      // product-stock (Redis) and product-catalogue (Elasticsearch) both project ProductRegistered.
      const writeTrace = await traceOf(written.headers.get('traceparent'), (spans) =>
        named(spans, 'strata-projector', /^redis write$/).length > 0 && named(spans, 'strata-projector', /^elasticsearch bulk$/).length > 0,
      );
      assertNoOrphans(writeTrace);
      const root = writeTrace.find((span) => span.parentId === undefined);
      assert.ok(root);
      assert.equal(root.localEndpoint.serviceName, 'strata-gateway');
      assert.equal(root.kind, 'SERVER');
      const [processing] = named(writeTrace, 'strata-processor', /^process registerproduct$/);
      assert.ok(processing, 'the processor handled the command in this trace');
      assert.equal(parentOf(writeTrace, processing)?.localEndpoint.serviceName, 'strata-gateway', 'its parent is the gateway producing it');
      for (const child of [/^decide$/, /^transaction$/, /^send productregistered$/]) {
        assert.equal(named(writeTrace, 'strata-processor', child).every((span) => span.parentId === processing.id), true, `${String(child)} under it`);
      }
      const [sent] = named(writeTrace, 'strata-processor', /^send productregistered$/);
      assert.ok(sent, 'the processor produced the event in this trace');
      for (const [write, projection] of [[/^redis write$/, 'product-stock'], [/^elasticsearch bulk$/, 'product-catalogue']] as const) {
        const [span] = named(writeTrace, 'strata-projector', write);
        assert.ok(span, String(write));
        const eventSpan = parentOf(writeTrace, span);
        assert.match(eventSpan?.name ?? '', new RegExp(`^project ${projection}\\.v1 productregistered$`), `${String(write)} is under the event's processing span`);
        assert.equal(eventSpan?.parentId, sent.id, "the event's processing span continues from the event produced");
      }

      // Reads: the HTTP span and its Redis or Elasticsearch call.
      const byKey = await fetch(`${query}/products/${sku}`, { headers: { 'x-consistency-token': consistencyToken } });
      assert.equal(byKey.status, 200);
      const readTrace = await traceOf(byKey.headers.get('traceparent'), (spans) => spans.some((span) => span.tags?.['db.system.name'] === 'redis'));
      assertNoOrphans(readTrace);
      assert.ok(readTrace.every((span) => span.localEndpoint.serviceName === 'strata-query'));
      const search = await fetch(`${query}/products?q=traced`, { headers: { 'x-consistency-token': consistencyToken } });
      assert.equal(search.status, 200);
      const searchTrace = await traceOf(search.headers.get('traceparent'), (spans) =>
        spans.some((span) => Object.values(span.tags ?? {}).some((value) => value.includes('/_search'))),
      );
      assertNoOrphans(searchTrace);
    } finally {
      platform.kill('SIGTERM');
      const [code] = (await once(platform, 'exit')) as [number | null];
      assert.equal(code, 0, 'the platform stops cleanly');
    }
  });
});
