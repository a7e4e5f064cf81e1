/**
 * Telemetry end to end, with the platform started as a user starts it
 * (`strata start`, each role its own process and service):
 * - tracing through the local Zipkin: a command posted, its trace fetched by the id
 *   in the response's `traceparent`, and the chain checked: gateway → processor →
 *   projector → the Redis and Elasticsearch writes under each event's span, with no
 *   orphan spans; the same for reads through the query service;
 * - metrics: every process's /metrics after that traffic;
 * - logs: lines written inside a span carry its trace_id and span_id.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { packageRoot } from '../../shared/package-files.js';
import { projectionId } from '../../shared/projection-id.js';
import { freePortRange, freePorts } from '../../infra/stack/ports.js';
import { uniqueName } from '../support/test-context.js';
import shop from '../../examples/shop/app.js';

interface ZipkinSpan {
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  localEndpoint: { serviceName: string };
  tags?: Record<string, string>;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus's text format, the samples only. */
async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  assert.equal(response.status, 200, url);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  return (await response.text())
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key ?? '', value ?? '']));
      return { name: match[1] ?? '', labels, value: Number(match[3]) };
    });
}

const sum = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((total, sample) => total + sample.value, 0);

describe('telemetry', () => {
  it('shows one trace per command from the HTTP request to every read-model write, and one per read', { timeout: 180_000 }, async () => {
    const [gatewayPort, gatewayGrpcPort, queryGrpcPort, processorMetricsPort, projectorMetricsPort] = await freePorts(5);
    const queryPort = await freePortRange(1);
    const env = {
      ...process.env,
      STRATA_TOPIC_PREFIX: uniqueName('test-tracing'),
      STRATA_PARTITIONS: '2',
      STRATA_GATEWAY_PORT: String(gatewayPort),
      STRATA_GATEWAY_GRPC_PORT: String(gatewayGrpcPort),
      STRATA_QUERY_PORT: String(queryPort),
      STRATA_QUERY_GRPC_PORT: String(queryGrpcPort),
      STRATA_PROCESSOR_METRICS_PORT: String(processorMetricsPort),
      STRATA_PROJECTOR_METRICS_PORT: String(projectorMetricsPort),
      // The gateway and processors log each command at debug level, inside its span.
      STRATA_LOG_LEVEL: 'debug',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    };
    const zipkin = loadConfig(env).zipkin.url;
    const platform = spawn(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'start', '--no-stack'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    // Every role's process writes its JSON lines to this one stdout.
    let output = '';
    platform.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    const logLines = () =>
      output.split('\n').flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
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

      // Logs: the lines written inside the command's spans carry its trace.
      const writeTraceId = written.headers.get('traceparent')?.split('-')[1];
      const { commandId } = (await fetch(`${gateway}/commands/RegisterProduct`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ aggregateId: sku, data: { name: 'Traced lamp', description: 'lit', priceCents: 900, currency: 'EUR', tags: [] } }),
      }).then((response) => response.json())) as { commandId?: string };
      // The processor's line travels through its parent's stdout and may arrive after the answer.
      const commandLinesNow = () => logLines().filter((line) => line.msg === 'command answered' || line.msg === 'command committed');
      for (let waited = 0; commandLinesNow().length < 4 && waited < 5_000; waited += 100) await sleep(100);
      const commandLines = commandLinesNow();
      assert.ok(commandLines.length >= 4, `the gateway and the processor logged both commands: ${String(commandLines.length)} lines`);
      for (const line of commandLines) {
        assert.match(String(line.trace_id), /^[0-9a-f]{32}$/, `trace_id on ${JSON.stringify(line)}`);
        assert.match(String(line.span_id), /^[0-9a-f]{16}$/, `span_id on ${JSON.stringify(line)}`);
      }
      const firstCommand = commandLines.filter((line) => line.trace_id === writeTraceId);
      assert.deepEqual(new Set(firstCommand.map((line) => line.msg)), new Set(['command answered', 'command committed']), 'both lines of the first command are in its trace');
      assert.ok(commandId === undefined || commandLines.some((line) => line.commandId === commandId), 'the second command (a refusal) was logged too');

      // Metrics: every process answers /metrics with its own series and the runtime's.
      const gatewayMetrics = await scrape(`${gateway}/metrics`);
      assert.ok(sum(gatewayMetrics, 'strata_commands_total', { command_type: 'RegisterProduct', outcome: 'accepted' }) >= 1, 'accepted commands counted');
      assert.ok(sum(gatewayMetrics, 'strata_commands_total', { command_type: 'RegisterProduct' }) >= 2, 'the refused one counted too');
      assert.ok(sum(gatewayMetrics, 'strata_command_duration_seconds_count', { command_type: 'RegisterProduct', outcome: 'accepted' }) >= 1, 'command latency');
      assert.ok(sum(gatewayMetrics, 'strata_http_request_duration_seconds_count', { route: '/commands/RegisterProduct' }) >= 2, 'HTTP requests by route');
      const processorMetrics = await scrape(`http://127.0.0.1:${String(processorMetricsPort)}/metrics`);
      assert.ok(sum(processorMetrics, 'strata_processor_commands_total', { command_type: 'RegisterProduct', outcome: 'accepted' }) >= 1, 'processed commands');
      assert.ok(sum(processorMetrics, 'strata_processor_batch_commands_count') >= 1, 'batch sizes');
      assert.ok(sum(processorMetrics, 'strata_processor_transaction_duration_seconds_count', { result: 'committed' }) >= 1, 'transaction latency');
      // Once everything is projected the lag is zero, transaction markers included.
      const projectorUrl = `http://127.0.0.1:${String(projectorMetricsPort)}/metrics`;
      let projectorMetrics = await scrape(projectorUrl);
      for (const deadline = Date.now() + 20_000; sum(projectorMetrics, 'strata_projection_lag') > 0; projectorMetrics = await scrape(projectorUrl)) {
        assert.ok(Date.now() < deadline, `lag back to zero: ${JSON.stringify(projectorMetrics.filter((sample) => sample.name === 'strata_projection_lag' && sample.value > 0))}`);
        await sleep(250);
      }
      for (const projection of shop.projections) {
        const lag = projectorMetrics.filter((sample) => sample.name === 'strata_projection_lag' && sample.labels.projection === projectionId(projection));
        assert.deepEqual(lag.map((sample) => sample.labels.partition).sort(), ['0', '1'], `a lag series per partition for ${projection.name}`);
        assert.ok(lag.every((sample) => Number.isFinite(sample.value) && sample.value >= 0));
        assert.ok(projectorMetrics.some((sample) => sample.name === 'strata_dead_letters_total' && sample.labels.projection === projectionId(projection)), `dead letters of ${projection.name}`);
      }
      assert.ok(sum(projectorMetrics, 'strata_projection_events_total', { projection: 'product-catalogue.v1' }) >= 1, 'events projected');
      const queryMetrics = await scrape(`${query}/metrics`);
      for (const backend of ['redis', 'elasticsearch']) {
        assert.equal(sum(queryMetrics, 'strata_breaker_state', { backend, state: 'closed' }), 1, `${backend} breaker closed`);
        assert.equal(sum(queryMetrics, 'strata_breaker_state', { backend, state: 'open' }), 0);
      }
      assert.ok(sum(queryMetrics, 'strata_http_request_duration_seconds_count', { route: '/products/:sku', status_code: '200' }) >= 1, 'reads by route');
      for (const samples of [gatewayMetrics, processorMetrics, projectorMetrics, queryMetrics]) {
        assert.ok(sum(samples, 'process_cpu_seconds_total') > 0, 'Node runtime metrics');
        assert.ok(samples.some((sample) => sample.name === 'nodejs_eventloop_lag_p99_seconds'));
      }
    } finally {
      platform.kill('SIGTERM');
      const [code] = (await once(platform, 'exit')) as [number | null];
      assert.equal(code, 0, 'the platform stops cleanly');
    }
  });
});
