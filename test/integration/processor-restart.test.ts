/**
 * The write side comes back: on a log of realistic size (over 100,000 events on 4
 * partitions, 1,000 counters of the neutral test domain incremented through the
 * command processors with their snapshots and checkpoints), after every process stopped and the stack's broker restarted,
 * processors rebuild and serve within a bound; one killed during its rebuild is
 * replaced; and under failover (a processor joining, then one killed) the longest
 * stretch with no command acknowledged stays bounded by the session timeout.
 * The gateway's /readyz is not ready while a partition is being rebuilt.
 *
 * Bounds: a restart serves within 30 s (it takes a few seconds here: the rebuild
 * reads the snapshots and at most one checkpoint interval of events); a takeover after
 * SIGKILL within the session timeout plus 30 s; under failover, no acknowledgement
 * for at most twice the session timeout plus 5 s.
 */
import { defaultTenant } from '../../shared/auth/principal.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { streamReporter } from '../../infra/stack/reporter.js';
import { down, selectServers, up } from '../../infra/stack/stack.js';
import { loadConfig } from '../../shared/config.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { aggregateHistory } from '../../write-side/event-log.js';
import { startGateway, type Gateway } from '../../write-side/gateway/gateway.js';
import { processorStatus } from '../../write-side/processor-status.js';
import { deleteWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { ackClock } from '../support/availability.js';
import { writeCommandLog } from '../../bench/command-log.js';
import { spawnProcessor, type ProcessorProcess } from '../../bench/processor-process.js';
import { logger, uniqueName } from '../support/test-context.js';
import counterApp from '../apps/counter-app.js';

const sessionTimeoutMs = 6000;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  STRATA_TOPIC_PREFIX: uniqueName('test-restart'),
  STRATA_PARTITIONS: '4',
  STRATA_SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
  STRATA_COMMAND_TIMEOUT_MS: '3000',
  STRATA_LOG_LEVEL: 'info',
};
const config = loadConfig(env);
const topics = writeSideTopics(config);
const log = createLogClient(config, { clientId: 'strata-test', logger });
const counters = Array.from({ length: 1000 }, (_, index) => `counter-${index}`);
const increments = 100_000;

async function readyz(gateway: Gateway): Promise<{ ok: boolean; unservedPartitions: number[] }> {
  const response = await fetch(`${gateway.url}/readyz`);
  const body = (await response.json()) as { unservedPartitions?: number[] };
  return { ok: response.ok, unservedPartitions: body.unservedPartitions ?? [] };
}

async function increment(gateway: Gateway, counter: string, key: string = randomUUID()): Promise<{ status: number; version?: number }> {
  const response = await fetch(`${gateway.url}/commands/Increment`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ aggregateId: counter, data: { by: 1 } }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await response.json()) as { version?: number };
  return { status: response.status, ...(body.version === undefined ? {} : { version: body.version }) };
}

/** Versions 1..n, each once, in log order, with n at least the latest acknowledged. */
async function assertGapless(counter: string, acknowledged: number): Promise<void> {
  const versions = (await aggregateHistory(log, config, defaultTenant, counter)).map((event) => event.version);
  assert.deepEqual(versions, Array.from({ length: versions.length }, (_, index) => index + 1), `${counter}'s versions`);
  assert.ok(versions.length >= acknowledged, `${counter} has its acknowledged version ${acknowledged}`);
}

/** Waits until /readyz is ready, recording when; fails past `timeoutMs`. */
async function untilReady(gateway: Gateway, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await readyz(gateway)).ok) return Date.now();
    if (Date.now() > deadline) throw new Error(`the gateway was not ready within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('command processors on a realistic log', { timeout: 600_000 }, () => {
  let gateway: Gateway | undefined;
  const processors: ProcessorProcess[] = [];
  const stopAll = async () => {
    for (const { child } of processors) child.kill('SIGTERM');
    await Promise.all(processors.map((processor) => processor.exited()));
    processors.length = 0;
  };

  before(() => writeCommandLog(log, config, logger, { counters, increments }));
  after(async () => {
    await stopAll();
    await gateway?.stop();
    await deleteWriteSideTopics(log, config);
  });

  it('after a broker restart, rebuild from the last checkpoint and serve within 30 s; /readyz not ready until then', async (t) => {
    const ends = await log.withAdmin((admin) => admin.offsets(topics.events));
    const offsets = ends.map(({ end }) => Number(end));
    assert.ok(offsets.reduce((sum, offset) => sum + offset, 0) > increments, `a log of realistic size: ${offsets.join(' / ')}`);

    const reporter = streamReporter(process.stderr);
    await down(config, selectServers(config, ['kafka']), { purge: false }, reporter);
    await up(config, selectServers(config, ['kafka']), reporter);

    gateway = await startGateway({ log, config, domain: counterApp.domain, logger, port: 0, grpcPort: 0 });
    const before = await readyz(gateway);
    assert.equal(before.ok, false, 'not ready with no processor');
    assert.deepEqual(before.unservedPartitions, [0, 1, 2, 3]);
    // No processor: a command waits for its partition's owner, then gets 503, and nothing is sent.
    const refused = await increment(gateway, 'counter-1');
    assert.equal(refused.status, 503, `no owner serves: ${JSON.stringify(await processorStatus(log, config))}`);

    const started = Date.now();
    const processor = spawnProcessor(env);
    processors.push(processor);
    const readyAt = await untilReady(gateway, 30_000);
    const rebuilt = processor.lines('partition state rebuilt');
    assert.equal(rebuilt.length, 4, 'every partition rebuilt before the gateway was ready');
    for (const line of rebuilt) assert.ok(Number(line.time) <= readyAt, 'ready only after the last rebuild');
    const answer = await increment(gateway, 'counter-1');
    const servedMs = Date.now() - started;
    assert.equal(answer.status, 200);
    assert.ok(servedMs < 30_000, `served after ${servedMs} ms`);
    t.diagnostic(`served ${servedMs} ms after the processor started; rebuilds: ${rebuilt.map((line) => `p${String(line.partition)} ${String(line.replayed)} events in ${String(line.seconds)} s`).join(', ')}`);
    // The first Increment, 100 more each (every 7th counter of 1000 in turn: 100,000 / 1000), this one.
    await assertGapless('counter-1', answer.version ?? 0);
    assert.equal(answer.version, 1 + increments / counters.length + 1, 'the version continues the log');
  });

  it('a processor killed during its rebuild is replaced by another, which finishes it and serves', async () => {
    const current = gateway;
    assert.ok(current);
    await stopAll();
    const doomed = spawnProcessor(env);
    processors.push(doomed);
    await doomed.waitFor('rebuilding its state', 30_000);
    doomed.child.kill('SIGKILL');
    await doomed.exited();
    assert.equal(doomed.lines('partition state rebuilt').length < 4, true, 'killed before every partition was rebuilt');

    const started = Date.now();
    const successor = spawnProcessor(env);
    processors.push(successor);
    await untilReady(current, sessionTimeoutMs + 30_000);
    const answer = await increment(current, 'counter-2');
    assert.equal(answer.status, 200);
    assert.equal(successor.lines('partition state rebuilt').length, 4);
    assert.ok(Date.now() - started < sessionTimeoutMs + 30_000);
    await assertGapless('counter-2', answer.version ?? 0);
  });

  it('under failover (a processor joins, then one is killed) no command goes unacknowledged for longer than twice the session timeout plus 5 s', async (t) => {
    const current = gateway;
    assert.ok(current);
    const acks = ackClock();
    const from = Date.now();
    let running = true;
    // A function, not a read of the flag: it changes while the clients await.
    const isRunning = () => running;
    const latest = new Map<string, number>();
    const clients = Array.from({ length: 8 }, async (_, client) => {
      for (let n = 0; isRunning(); n++) {
        const counter = counters[(client * 131 + n * 17) % counters.length] ?? 'counter-0';
        const key = `failover-${client}-${n}`;
        // A client retries its command with the same key until it has an outcome.
        while (isRunning()) {
          const answer = await increment(current, counter, key).catch(() => ({ status: 0, version: undefined }));
          if (answer.status === 200 && answer.version !== undefined) {
            acks.ack();
            latest.set(counter, Math.max(latest.get(counter) ?? 0, answer.version));
            break;
          }
          await sleep(100);
        }
      }
    });
    await sleep(3000);
    const joining = spawnProcessor(env);
    processors.push(joining);
    await joining.waitFor('partition state rebuilt', 60_000);
    await sleep(3000);
    const victim = processors.find((processor) => processor !== joining && processor.child.exitCode === null && processor.child.signalCode === null);
    assert.ok(victim);
    victim.child.kill('SIGKILL');
    await sleep(2 * sessionTimeoutMs + 8000);
    running = false;
    await Promise.all(clients);
    const to = Date.now();
    const silence = acks.longestSilenceMs(from, to);
    const bound = 2 * sessionTimeoutMs + 5000;
    t.diagnostic(`longest stretch with no command acknowledged: ${silence} ms (bound ${bound} ms)`);
    assert.ok(silence <= bound, `no acknowledgement for ${silence} ms`);
    for (const [counter, version] of [...latest].slice(0, 20)) await assertGapless(counter, version);
  });
});
