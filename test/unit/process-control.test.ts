/**
 * Process groups with real processes (no infrastructure): stopping a group takes
 * its children down too, and a pid that is not ours is never taken for ours.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { groupExists, isRunning, launch, readPidFile, stopGroup, writePidFile } from '../../infra/stack/process-control.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-process-test-'));


describe('process control', () => {
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('stops a server together with the children it forked', async () => {
    // A parent that forks a child, as Elasticsearch's launcher does.
    const started = launch({ command: 'sh', args: ['-c', 'sleep 300 & wait'], cwd: dir }, join(dir, 'forking.log'));
    assert.ok(isRunning(started));
    assert.equal(await stopGroup(started, 5000), 'stopped');
    assert.ok(!groupExists(started.pid));
    assert.equal(isRunning(started), false);
  });

  it('kills a group that ignores SIGTERM once the grace period is over', async () => {
    const ready = join(dir, 'stubborn.ready');
    const script = `trap '' TERM; sleep 300 & touch ${ready}; wait`;
    const stubborn = launch({ command: 'sh', args: ['-c', script], cwd: dir }, join(dir, 'stubborn.log'));
    while (!existsSync(ready)) await sleep(20);
    assert.equal(await stopGroup(stubborn, 500), 'killed');
    assert.ok(!groupExists(stubborn.pid));
  });

  it('does not take a recycled pid for the recorded process', () => {
    const pidFile = join(dir, 'server.pid');
    writePidFile(pidFile, { pid: process.pid, startTicks: 1 });
    const record = readPidFile(pidFile);
    assert.deepEqual(record, { pid: process.pid, startTicks: 1 });
    assert.equal(isRunning(record), false, 'same pid, different start time: not ours');
  });
});
