/**
 * The app still reads every event version it ever wrote: events.lock.json (made by
 * `npx strata events schemas --write`, committed) against today's definitions.
 * `npx strata events check` says the same from a shell.
 */
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertEventLock } from 'strata/testing';
import app from '../src/app.js';

describe('the event lock', () => {
  it('is readable by the event types the app declares today', () => {
    // Compiled to dist/test/: the lock file is at the project's root.
    assertEventLock(app, fileURLToPath(new URL('../../events.lock.json', import.meta.url)));
  });
});
