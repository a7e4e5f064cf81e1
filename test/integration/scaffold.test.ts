/**
 * A user's own project, outside the repository, on the user's path: the repository
 * packed as an npm package and installed in a project under a folder only its owner
 * may enter (as root's home and every `mktemp -d` are), `strata new` from there, the
 * new project installed, built and tested on the machine's own Node.js; then
 * `npm start` as the README says, with authentication on (the default) and a local
 * stack of its own started from that project; tokens from `strata token` for a clerk
 * and a customer; a command, a read with its consistency token, a search, a replay,
 * and a clean stop on Ctrl-C that stops the servers it started.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { packageRoot } from '../../shared/package-files.js';
import { freePorts } from '../../infra/stack/ports.js';

const work = mkdtempSync(join(tmpdir(), 'strata-scaffold-'));

// The project's own `node --test` would take itself for a test file of this run; and the
// user's Node.js is the machine's, not the one this repository's scripts run on.
const { NODE_TEST_CONTEXT: _runner, STRATA_AUTH: _auth, ...inherited } = process.env;
const machinePath = (inherited.PATH ?? '').split(delimiter).filter((dir) => !dir.startsWith(packageRoot)).join(delimiter);

/** Runs a command to its end; fails the test with its output when it fails. */
function run(command: string, args: string[], options: SpawnSyncOptions & { env: NodeJS.ProcessEnv }): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 300_000, ...options });
  const output = `${String(result.stdout)}${String(result.stderr)}`;
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed:\n${output}`);
  return output;
}

/** Whether something listens on a loopback port. */
const listening = (port: number) => fetch(`http://127.0.0.1:${String(port)}/`, { signal: AbortSignal.timeout(2000) }).then(() => true, (error: unknown) => !/ECONNREFUSED/.test(String((error as { cause?: unknown }).cause)));

describe('a project made by strata new', { timeout: 1_200_000 }, () => {
  let env: NodeJS.ProcessEnv = { ...inherited, PATH: machinePath };
  const app = join(work, 'host', 'my-app');
  after(() => {
    // Its stack's data too: a root stack keeps Elasticsearch's outside the project.
    if (existsSync(join(app, 'node_modules'))) spawnSync(join(app, 'node_modules', '.bin', 'strata'), ['infra', 'down', '--purge'], { cwd: app, env, encoding: 'utf8' });
    rmSync(work, { recursive: true, force: true });
  });

  it('installs from the packed tarball under a private folder, builds, passes its tests, starts with its own stack and authentication on, serves clerk and customer, replays, and stops', async (t) => {
    assert.equal(statSync(work).mode & 0o077, 0, 'the project lives under a folder only its owner may enter');
    const node = run('node', ['--version'], { env }).trim();
    t.diagnostic(`the user's Node.js: ${node}`);
    // The suite runs on the build npm test made; packing again would empty dist/ under it.
    run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: packageRoot, env });
    const tarball = readdirSync(work).find((file) => file.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack made a tarball');

    const host = join(work, 'host');
    mkdirSync(host);
    run('npm', ['init', '-y'], { cwd: host, env });
    run('npm', ['install', '--no-audit', '--no-fund', join(work, tarball)], { cwd: host, env });
    run('npx', ['strata', 'new', 'my-app'], { cwd: host, env });
    run('npm', ['install', '--no-audit', '--no-fund'], { cwd: app, env });
    const tests = run('npm', ['test'], { cwd: app, env });
    // TAP or spec, whichever the project's Node prints.
    assert.match(tests, /(#|ℹ) pass [1-9]/);
    assert.match(tests, /(#|ℹ) fail 0/);

    // A stack of its own beside the suite's: every port its own.
    const names = ['KAFKA', 'KAFKA_CONTROLLER', 'ELASTICSEARCH', 'ELASTICSEARCH_TRANSPORT', 'REDIS', 'ZIPKIN', 'KEYCLOAK', 'KEYCLOAK_MANAGEMENT', 'GATEWAY', 'GATEWAY_GRPC', 'QUERY', 'QUERY_GRPC', 'PROCESSOR_METRICS', 'PROJECTOR_METRICS', 'SAGA_METRICS'];
    const ports = Object.fromEntries((await freePorts(names.length)).map((port, index) => [names[index] ?? '', port]));
    env = { ...env, ...Object.fromEntries(names.map((name) => [`STRATA_${name}_PORT`, String(ports[name])])), STRATA_LOG_LEVEL: 'warn' };
    const [gateway, query] = [ports.GATEWAY ?? 0, ports.QUERY ?? 0];

    // Ctrl-C in a terminal reaches the whole process group: npm and what it runs.
    const platform = spawn('npm', ['start'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (chunk: Buffer) => { output += chunk.toString('utf8'); };
    platform.stdout.on('data', collect);
    platform.stderr.on('data', collect);
    try {
      const deadline = Date.now() + 480_000;
      while (!output.includes('• running') && platform.exitCode === null && Date.now() < deadline) await sleep(200);
      assert.match(output, /• running; press Ctrl-C to stop/, output);
      await driveTheApp(app, env, gateway, query);
    } finally {
      const exited = once(platform, 'exit');
      if (platform.exitCode === null && platform.pid !== undefined) process.kill(-platform.pid, 'SIGINT');
      // npm may leave on the signal itself, before what it ran has finished stopping.
      const [code, signal] = (await exited) as [number | null, string | null];
      assert.ok(code === 0 || signal === 'SIGINT', `npm start ended with ${String(code ?? signal)}:\n${output}`);
    }
    const servers = ['KAFKA', 'ELASTICSEARCH', 'REDIS', 'ZIPKIN', 'KEYCLOAK', 'GATEWAY', 'QUERY'];
    const stopped = Date.now() + 90_000;
    const up = async () => (await Promise.all(servers.map(async (server) => ((await listening(ports[server] ?? 0)) ? [server] : [])))).flat();
    while ((await up()).length > 0 && Date.now() < stopped) await sleep(500);
    assert.deepEqual(await up(), [], `everything it started stopped with it:\n${output}`);
    assert.match(output, /• strata: stopped in/, output);
    assert.doesNotMatch(output, /killing them/, 'the services stopped in time');
    if (process.getuid?.() === 0) {
      const owners = readdirSync('/var/lib/strata/elasticsearch').map((folder) => readFileSync(join('/var/lib/strata/elasticsearch', folder, 'owner'), 'utf8').trim());
      assert.ok(owners.includes(join(app, '.strata')), "root's Elasticsearch kept the project's data where its own user can reach it");
    }
    t.diagnostic(`scaffold in ${work}`);
  });
});

/** What the README shows a user doing once it runs: tokens, a command, reads, a search, a replay. */
async function driveTheApp(app: string, env: NodeJS.ProcessEnv, gateway: number, query: number): Promise<void> {
  // The token alone on stdout, as the README puts it in a header.
  const token = (subject: string, roles: string) => {
    const made = spawnSync('npx', ['strata', 'token', '--subject', subject, '--roles', roles], { cwd: app, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(made.status, 0, made.stderr);
    return made.stdout.trim();
  };
  const clerk = { authorization: `Bearer ${token('kim', 'clerk')}` };
  const customer = { authorization: `Bearer ${token('ann', 'customer')}` };
  const post = (headers: Record<string, string>, aggregateId: string) =>
    fetch(`http://127.0.0.1:${String(gateway)}/commands/AddTask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ aggregateId, data: { title: 'Try Strata' } }),
    });
  assert.equal((await post({}, 'task-0')).status, 401, 'no token, no command');
  assert.equal((await post(customer, 'task-2')).status, 403, 'a customer may not add tasks');
  const posted = await post(clerk, 'task-1');
  const answer = (await posted.json()) as { consistencyToken: string };
  assert.equal(posted.status, 200, JSON.stringify(answer));

  const read = await fetch(`http://127.0.0.1:${String(query)}/tasks/task-1`, { headers: { ...customer, 'x-consistency-token': answer.consistencyToken } });
  assert.equal(read.status, 200);
  const { addedAt, ...task } = (await read.json()) as Record<string, unknown>;
  assert.deepEqual(task, { taskId: 'task-1', title: 'Try Strata', done: false, completedAt: null, version: 1 });
  assert.ok(!Number.isNaN(Date.parse(String(addedAt))), 'addedAt is a time');
  const searched = await fetch(`http://127.0.0.1:${String(query)}/tasks?q=strata`, { headers: { ...customer, 'x-consistency-token': answer.consistencyToken } });
  assert.equal(((await searched.json()) as { total: number }).total, 1, 'the search finds the task, and not the refused one');
  assert.equal((await fetch(`http://127.0.0.1:${String(query)}/tasks/task-2`, { headers: customer })).status, 404, 'the refused command appended nothing');

  const replay = run('npx', ['strata', 'projections', 'replay', 'task-details'], { cwd: app, env });
  assert.match(replay, /task-details: v2 \(definition v1\) is live/);
  const replayed = await fetch(`http://127.0.0.1:${String(query)}/tasks/task-1`, { headers: customer });
  assert.equal(((await replayed.json()) as { title: string }).title, 'Try Strata', 'the replayed version answers');
}
