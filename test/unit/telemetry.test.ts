import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { singleRole } from '../../shared/telemetry.js';
import { isSampled, newTraceparent, validTraceparent } from '../../shared/trace-context.js';

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

describe('trace context', () => {
  it("reads the sampled bit of a traceparent's flags, and makes new ones either way", () => {
    assert.equal(isSampled('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), true);
    assert.equal(isSampled('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03'), true);
    assert.equal(isSampled('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'), false);
    assert.equal(isSampled(undefined), false);
    assert.equal(isSampled(newTraceparent()), true);
    assert.equal(isSampled(newTraceparent(false)), false);
    assert.ok(validTraceparent(newTraceparent(false)));
  });
});
