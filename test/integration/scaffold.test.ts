/**
 * A user's own project, outside the repository, as a user makes it: the repository
 * packed as an npm package, installed in a project, `strata new` from there, the new
 * project installed, built and tested, then started against the stack; a command
 * posted and read back through one of its queries with the consistency token, its
 * projection replayed, and the platform stopped.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { loadConfig, packageRoot } from '../../shared/config.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { deleteWriteSideTopics } from '../../shared/topics.js';
import { freePorts } from '../support/free-ports.js';
import { logger, uniqueName } from '../support/test-context.js';

const work = mkdtempSync(join(tmpdir(), 'strata-scaffold-'));

// The project's own `node --test` would take itself for a test file of this run.
const { NODE_TEST_CONTEXT: _runner, ...userEnv } = process.env;

/** Runs a command to its end; fails the test with its output when it fails. */
function run(command: string, args: string[], options: SpawnSyncOptions): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 300_000, env: userEnv, ...options });
  const output = `${String(result.stdout)}${String(result.stderr)}`;
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed:\n${output}`);
  return output;
}

describe('a project made by strata new', { timeout: 900_000 }, () => {
  let env: NodeJS.ProcessEnv = userEnv;
  after(async () => {
    const log = createLogClient(loadConfig(env), { clientId: 'strata-test', logger });
    await deleteWriteSideTopics(log, loadConfig(env)).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('installs from the packed tarball, builds, passes its tests, serves a command and its query, replays, and stops', async (t) => {
    run('npm', ['pack', '--pack-destination', work], { cwd: packageRoot });
    const tarball = readdirSync(work).find((file) => file.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack made a tarball');

    const host = join(work, 'host');
    mkdirSync(host);
    run('npm', ['init', '-y'], { cwd: host });
    run('npm', ['install', '--no-audit', '--no-fund', join(work, tarball)], { cwd: host });
    const strataBin = (dir: string) => join(dir, 'node_modules', '.bin', 'strata');
    run(strataBin(host), ['new', 'my-app'], { cwd: host });
    const app = join(host, 'my-app');
    run('npm', ['install', '--no-audit', '--no-fund'], { cwd: app });
    const tests = run('npm', ['test'], { cwd: app });
    // TAP or spec, whichever the project's Node prints.
    assert.match(tests, /(#|ℹ) pass [1-9]/);
    assert.match(tests, /(#|ℹ) fail 0/);

    const [gateway, gatewayGrpc, query, queryGrpc, processorMetrics, projectorMetrics, sagaMetrics] = await freePorts(7);
    env = {
      ...userEnv,
      STRATA_TOPIC_PREFIX: uniqueName('test-scaffold'),
      STRATA_GATEWAY_PORT: String(gateway),
      STRATA_GATEWAY_GRPC_PORT: String(gatewayGrpc),
      STRATA_QUERY_PORT: String(query),
      STRATA_QUERY_GRPC_PORT: String(queryGrpc),
      STRATA_PROCESSOR_METRICS_PORT: String(processorMetrics),
      STRATA_PROJECTOR_METRICS_PORT: String(projectorMetrics),
      STRATA_SAGA_METRICS_PORT: String(sagaMetrics),
      STRATA_LOG_LEVEL: 'warn',
    };
    const platform = spawn(strataBin(app), ['start', '--no-stack'], { cwd: app, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    platform.stderr.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    try {
      const deadline = Date.now() + 120_000;
      while (!output.includes('running') && platform.exitCode === null && Date.now() < deadline) await sleep(100);
      assert.match(output, /running; press Ctrl-C to stop/, output);

      const posted = await fetch(`http://127.0.0.1:${String(gateway)}/commands/AddTask`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ aggregateId: 'task-1', data: { title: 'Try Strata' } }),
      });
      const answer = (await posted.json()) as { consistencyToken: string };
      assert.equal(posted.status, 200, JSON.stringify(answer));
      const read = await fetch(`http://127.0.0.1:${String(query)}/tasks/task-1`, { headers: { 'x-consistency-token': answer.consistencyToken } });
      assert.equal(read.status, 200);
      const { addedAt, ...task } = (await read.json()) as Record<string, unknown>;
      assert.deepEqual(task, { taskId: 'task-1', title: 'Try Strata', done: false, completedAt: null, version: 1 });
      assert.ok(!Number.isNaN(Date.parse(String(addedAt))), 'addedAt is a time');
      const searched = await fetch(`http://127.0.0.1:${String(query)}/tasks?q=strata`, { headers: { 'x-consistency-token': answer.consistencyToken } });
      assert.equal(((await searched.json()) as { total: number }).total, 1);

      const replay = run(strataBin(app), ['projections', 'replay', 'task-details'], { cwd: app, env });
      assert.match(replay, /task-details: v2 \(definition v1\) is live/);
      const after = await fetch(`http://127.0.0.1:${String(query)}/tasks/task-1`);
      assert.equal(((await after.json()) as { title: string }).title, 'Try Strata', 'the replayed version answers');
      t.diagnostic(`scaffold in ${work}`);
    } finally {
      platform.kill('SIGTERM');
      const [code] = (await once(platform, 'exit')) as [number | null];
      assert.equal(code, 0, output);
    }
  });
});
