/**
 * `strata infra` as an operator uses it, on a second stack of its own (its own
 * directory and ports, the shared artifact cache), so the stack the other tests
 * use is never touched.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePorts, isPortFree } from '../../infra/stack/ports.js';
import { groupExists } from '../../infra/stack/process-control.js';
import { strata } from '../support/strata-cli.js';
import { config } from '../support/test-context.js';

const stackDirs: string[] = [];

/** The environment of a fresh, isolated stack. */
async function isolatedStack(): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-stack-test-'));
  chmodSync(dir, 0o755); // Elasticsearch's user must reach its data below
  stackDirs.push(dir);
  const [log, controller, es, esTransport, redis, zipkin] = await freePorts(6);
  return {
    STRATA_STACK_DIR: dir,
    STRATA_ARTIFACTS_DIR: config.stack.artifactsDir,
    STRATA_KAFKA_PORT: String(log),
    STRATA_KAFKA_CONTROLLER_PORT: String(controller),
    STRATA_ELASTICSEARCH_PORT: String(es),
    STRATA_ELASTICSEARCH_TRANSPORT_PORT: String(esTransport),
    STRATA_REDIS_PORT: String(redis),
    STRATA_ZIPKIN_PORT: String(zipkin),
    // Empty means "derive from the ports above", whatever the caller's environment says.
    STRATA_KAFKA_BROKERS: '',
    STRATA_ELASTICSEARCH_URL: '',
    STRATA_REDIS_URL: '',
    STRATA_ZIPKIN_URL: '',
  };
}

interface Row {
  server: string;
  version: string | null;
  pid: number | null;
  state: string;
}


const stackPorts = (env: Record<string, string>) =>
  Object.entries(env)
    .filter(([name]) => name.endsWith('_PORT'))
    .map(([, port]) => Number(port));

describe('strata infra', () => {
  after(async () => {
    for (const dir of stackDirs) {
      await strata(['infra', 'down'], { STRATA_STACK_DIR: dir });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the port and the variable that moves it when a port is taken', async () => {
    const env = await isolatedStack();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(Number(env.STRATA_REDIS_PORT), '127.0.0.1', resolve));
    try {
      const run = await strata(['infra', 'up', 'redis'], env);
      assert.equal(run.code, 1);
      assert.match(run.stderr, new RegExp(`port ${env.STRATA_REDIS_PORT} is already in use`));
      assert.match(run.stderr, /STRATA_REDIS_PORT=<port>/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    assert.deepEqual(readdirSync(join(env.STRATA_STACK_DIR ?? '', 'run')), [], 'no pid file: nothing started');
  });

  it('prints the log tail of a server that fails and stops the others it started', async () => {
    const env: Record<string, string> = { ...(await isolatedStack()), STRATA_KAFKA_HEAP: '1m' };
    const run = await strata(['infra', 'up', 'redis', 'kafka'], env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /kafka exited during start-up/);
    assert.match(run.stderr, /heap/i, "the JVM's own complaint is in the log tail");
    assert.match(run.stderr, /stopping the 2 server\(s\) this run started/);
    assert.ok(await isPortFree(Number(env.STRATA_REDIS_PORT)), 'redis was stopped again');
    const status = await strata(['infra', 'status', '--json'], env);
    assert.equal(status.code, 3);
    assert.ok((JSON.parse(status.stdout) as Row[]).every((row) => row.state === 'stopped'));
  });

  it('up twice is harmless; down leaves no process and no listening port', async () => {
    const env = await isolatedStack();
    const first = await strata(['infra', 'up', '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    const rows = JSON.parse(first.stdout) as Row[];
    assert.deepEqual(rows.map((row) => [row.server, row.state]), [
      ['kafka', 'running'],
      ['elasticsearch', 'running'],
      ['redis', 'running'],
      ['zipkin', 'running'],
    ]);
    assert.ok(rows.every((row) => row.version !== null && row.pid !== null));

    const second = await strata(['infra', 'up', '--json'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(
      (JSON.parse(second.stdout) as Row[]).map((row) => row.pid),
      rows.map((row) => row.pid),
      'the same processes, none started twice',
    );
    assert.equal(second.stderr.match(/left alone/g)?.length, 4);

    const stopped = await strata(['infra', 'down'], env);
    assert.equal(stopped.code, 0, stopped.stderr);
    for (const row of rows) assert.ok(!groupExists(row.pid ?? 0), `${row.server}'s processes are gone`);
    for (const port of stackPorts(env)) assert.ok(await isPortFree(port), `port ${port} is closed`);

    const status = await strata(['infra', 'status'], env);
    assert.equal(status.code, 3);
    assert.equal(status.stdout.match(/stopped/g)?.length, 4);

    const purged = await strata(['infra', 'down', '--purge'], env);
    assert.equal(purged.code, 0);
    assert.ok(!existsSync(join(env.STRATA_STACK_DIR ?? '', 'data', 'kafka')), 'data deleted');
  });
});
