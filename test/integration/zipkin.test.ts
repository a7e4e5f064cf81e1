/**
 * The Zipkin server of the stack is real: a span posted to its collector API is
 * read back by trace id.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { config } from '../support/test-context.js';

interface ZipkinSpan {
  traceId: string;
  id: string;
  name: string;
  localEndpoint: { serviceName: string };
  tags?: Record<string, string>;
}

describe('zipkin', () => {
  it('stores a posted span and returns it by trace id', async () => {
    const traceId = randomBytes(16).toString('hex');
    const span: ZipkinSpan = {
      traceId,
      id: randomBytes(8).toString('hex'),
      name: 'post /commands/registerproduct',
      localEndpoint: { serviceName: 'strata-test' },
      tags: { 'strata.test': 'true' },
    };
    const posted = await fetch(`${config.zipkin.url}/api/v2/spans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ ...span, timestamp: Date.now() * 1000, duration: 1500, kind: 'SERVER' }]),
    });
    assert.equal(posted.status, 202);

    // The collector stores asynchronously: poll briefly.
    let trace: ZipkinSpan[] = [];
    for (let attempt = 0; attempt < 50 && trace.length === 0; attempt++) {
      const response = await fetch(`${config.zipkin.url}/api/v2/trace/${traceId}`);
      if (response.ok) trace = (await response.json()) as ZipkinSpan[];
      else await sleep(100);
    }
    assert.equal(trace.length, 1);
    const [stored] = trace;
    assert.equal(stored?.id, span.id);
    assert.equal(stored.name, span.name);
    assert.equal(stored.localEndpoint.serviceName, 'strata-test');
    assert.equal(stored.tags?.['strata.test'], 'true');
  });
});
