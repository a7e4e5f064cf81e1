/**
 * Reads waiting on consistency tokens, bounded: a tenant over its share gets 429 at
 * once, the instance over its total 503, and a place is free again once a read is done.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TooManyRequestsError, UnavailableError } from '../../shared/errors.js';
import { waitingReads } from '../../read-side/waiting-reads.js';

describe('waiting reads', () => {
  it("refuses a tenant's read over its share (429) and any read over the total (503), at once", async () => {
    const waiting = waitingReads({ total: 3, perTenant: 2 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const reads = [waiting.hold('acme', () => held), waiting.hold('acme', () => held)];
    await assert.rejects(waiting.hold('acme', () => Promise.resolve()), TooManyRequestsError);
    reads.push(waiting.hold('globex', () => held));
    await assert.rejects(waiting.hold('initech', () => Promise.resolve()), UnavailableError);
    release();
    await Promise.all(reads);
    assert.equal(await waiting.hold('acme', () => Promise.resolve('read')), 'read', 'free again');
  });

  it('frees the place of a read that failed', async () => {
    const waiting = waitingReads({ total: 1, perTenant: 1 });
    await assert.rejects(waiting.hold('acme', () => Promise.reject(new Error('timed out'))), /timed out/);
    assert.equal(await waiting.hold('acme', () => Promise.resolve(1)), 1);
  });
});
