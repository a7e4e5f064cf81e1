import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { singleRole } from '../../shared/telemetry.js';

describe('telemetry bootstrap', () => {
  const role = (...args: string[]) => singleRole(['node', 'strata', ...args]);

  it('starts for a process that runs exactly one role, once, and names the service after it', () => {
    assert.equal(role('start', '--role', 'gateway', '--no-stack'), 'gateway');
    assert.equal(role('start', '--no-stack', '--role', 'projector', '--projection', 'order-details'), 'projector');
    assert.equal(role('start', '--role', 'query', '--instances', '1'), 'query');
  });

  it('does not start for a supervisor of several roles or instances, or for other commands', () => {
    assert.equal(role('start'), undefined);
    assert.equal(role('start', '--role', 'gateway', 'processor'), undefined);
    assert.equal(role('start', '--role', 'processor', '--instances', '3'), undefined);
    assert.equal(role('start', '--role', 'gateway', '--help'), undefined);
    assert.equal(role('infra', 'up'), undefined);
  });
});
