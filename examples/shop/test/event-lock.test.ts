/**
 * The shop's CI check of its events: every version its lock file says was written
 * (events.lock.json at the repository root, made by `strata events schemas --write`) can
 * still be read by today's definitions. `strata events check` says the same from a shell.
 */
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertEventLock } from 'strata/testing';
import shop from '../app.js';

describe('the shop’s event lock', () => {
  it('is readable by the event types the shop declares today', () => {
    // Compiled to dist/examples/shop/test/: the lock file is at the repository's root.
    assertEventLock(shop, fileURLToPath(new URL('../../../../events.lock.json', import.meta.url)));
  });
});
