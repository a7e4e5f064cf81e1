/**
 * The `strata` executable's surface: help everywhere, usage errors with exit code 2.
 * (What the commands do against the stack is in test/integration/stack.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../shared/package-files.js';

const cli = join(packageRoot, 'dist', 'cli', 'main.js');
const strata = (args: string[], env: Record<string, string> = {}, cwd = packageRoot) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, cwd });

describe('strata CLI', () => {
  const commands = [
    [], ['new'], ['start'], ['infra'], ['infra', 'up'], ['infra', 'down'], ['infra', 'status'], ['config'],
    ['projections'], ['projections', 'list'], ['projections', 'status'], ['projections', 'replay'], ['projections', 'drop'],
    ['dlq'], ['dlq', 'list'], ['dlq', 'show'], ['dlq', 'retry'], ['dlq', 'drop'], ['events', 'tail'], ['aggregate', 'show'], ['token'], ['doctor'],
  ];
  for (const command of commands) {
    it(`strata ${command.join(' ')} --help describes itself and exits 0`, () => {
      const run = strata([...command, '--help']);
      assert.equal(run.status, 0);
      assert.match(run.stdout, new RegExp(`^Usage: strata ${command.join(' ')}`.trimEnd()));
    });
  }

  it("prints strata's version before a command, and leaves a command its own --version", () => {
    assert.match(strata(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
    const run = strata(['aggregate', 'show', 'x', '--version', 'zero']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /expected a version number/);
  });

  it('rejects an unknown command, option or server with a usage error', () => {
    for (const args of [['deploy'], ['infra', 'up', '--turbo'], ['infra', 'up', 'mongodb'], ['dlq', 'list', '--projection', 'nope']]) {
      const run = strata(args);
      assert.equal(run.status, 2, args.join(' '));
      assert.match(run.stderr, /^error: /m);
    }
  });

  it('rejects an unknown projection, listing the known ones, before starting anything', () => {
    const run = strata(['start', '--role', 'projector', '--projection', 'nope']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^error: unknown projection nope\nhint: known projections: order-details, /m);
  });

  it('refuses an app it cannot run, naming the module and the culprit, before starting anything', () => {
    const apps = join(packageRoot, 'dist', 'test', 'apps');
    const refusals: [string, RegExp][] = [
      [join(apps, 'missing.js'), /app module .*missing\.js does not exist/],
      [join(apps, 'no-app.js'), /app module .*no-app\.js exports no app/],
      [join(apps, 'two-queries-one-route.js'), /two-queries-one-route\.js: app two-routes: queries getCounter and getCounterAgain are both on route \/counters\/:counterId/],
      [join(apps, 'unknown-projection.js'), /unknown-projection\.js: app unknown-projection: query getCounter reads projection counter-value\.v1, which the app does not define/],
      [join(apps, 'duplicate-command-types.js'), /duplicate-command-types\.js: app duplicate-commands: command type Increment is claimed by both Counter and OtherCounter/],
    ];
    for (const [module, message] of refusals) {
      const run = strata(['start', '--no-stack', '--app', module], { STRATA_AUTH: 'off' });
      assert.equal(run.status, 2, module);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, /starting|\n\s+at /, 'nothing started, no stack trace');
    }
    const outside = strata(['projections', 'list'], {}, tmpdir());
    assert.equal(outside.status, 2);
    assert.match(outside.stderr, /no app to run: pass --app <module>/);
  });

  it('`strata new` refuses a bad package name or a folder that is not empty, writing nothing', () => {
    const work = mkdtempSync(join(tmpdir(), 'strata-new-'));
    try {
      for (const name of ['Bad Name', '../escape', '.hidden', 'x'.repeat(215)]) {
        const run = strata(['new', name], {}, work);
        assert.equal(run.status, 2, name);
        assert.match(run.stderr, /is not a valid package name/);
      }
      assert.deepEqual(readdirSync(work), [], 'nothing written');
      mkdirSync(join(work, 'taken'));
      writeFileSync(join(work, 'taken', 'notes.txt'), 'mine');
      const taken = strata(['new', 'taken'], {}, work);
      assert.equal(taken.status, 2);
      assert.match(taken.stderr, /taken exists and is not empty; nothing was written/);
      assert.deepEqual(readdirSync(join(work, 'taken')), ['notes.txt']);
      const made = strata(['new', 'fine-app'], {}, work);
      assert.equal(made.status, 0, made.stderr);
      assert.ok(readdirSync(join(work, 'fine-app')).includes('package.json'));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('refuses to start with authentication on and no identity provider, naming the setting', () => {
    const run = strata(['start', '--no-stack'], { STRATA_AUTH: 'on', STRATA_AUTH_ISSUERS: '' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /STRATA_AUTH_ISSUERS="" is invalid: authentication is on/);
    const algorithm = strata(['config'], { STRATA_AUTH_ALGORITHMS: 'RS256,HS256' });
    assert.equal(algorithm.status, 2);
    assert.match(algorithm.stderr, /"HS256" is not one of/);
  });

  it('stops on an invalid variable, naming it, before doing anything', () => {
    const run = strata(['infra', 'status'], { STRATA_KAFKA_PORT: '99999' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /STRATA_KAFKA_PORT="99999" is invalid/);
    // A service role reads the configuration first (for its telemetry): the same message, no stack trace.
    const role = strata(['start', '--role', 'query', '--no-stack'], { STRATA_QUERY_GRPC_PORT: '0' });
    assert.equal(role.status, 2);
    assert.equal(role.stderr, 'error: STRATA_QUERY_GRPC_PORT="0" is invalid: expected a TCP port from 1 to 65535\n');
  });

  it('lists every setting in `strata config --json`', () => {
    const run = strata(['config', '--json'], { STRATA_REDIS_PORT: '7000' });
    assert.equal(run.status, 0);
    const rows = JSON.parse(run.stdout) as { variable: string; value: string | null }[];
    assert.equal(rows.find((row) => row.variable === 'STRATA_REDIS_PORT')?.value, '7000');
    assert.ok(rows.some((row) => row.variable === 'STRATA_ZIPKIN_URL'));
    // The loaded app's own settings follow the platform's.
    assert.deepEqual(rows.find((row) => row.variable === 'SHOP_SETTLE_MS'), {
      owner: 'shop',
      variable: 'SHOP_SETTLE_MS',
      default: '30000',
      value: null,
      description: 'How long the fulfilment saga waits for all reservations of an order before releasing them and cancelling it (reason timeout)',
    });
    const invalid = strata(['config'], { SHOP_SETTLE_MS: 'soon' });
    assert.equal(invalid.status, 2);
    assert.match(invalid.stderr, /SHOP_SETTLE_MS="soon" is invalid/);
  });
});
