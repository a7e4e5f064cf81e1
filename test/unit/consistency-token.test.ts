/**
 * Consistency tokens: read back by whoever holds the key, for the tenant they were
 * issued to; unsigned, forged and altered ones are refused as bad requests.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consistencyTokens } from '../../shared/consistency-token.js';
import { ValidationError } from '../../shared/errors.js';

const tokens = consistencyTokens(new TextEncoder().encode('the platform key'));
const refused = (token: string, why: RegExp, tenant = 'acme') => {
  assert.throws(() => tokens.decode(token, tenant), (error: unknown) => error instanceof ValidationError && why.test(error.message));
};

describe('consistency tokens', () => {
  it('read back the offsets they were issued with, for their tenant only', () => {
    const token = tokens.encode('acme', { 0: '41', 3: '7' });
    assert.deepEqual(tokens.decode(token, 'acme'), { 0: '41', 3: '7' });
    refused(token, /another tenant/, 'globex');
  });

  it('refuse an unsigned token, one signed with another key, and one whose offsets were changed', () => {
    const payload = (offsets: object) => Buffer.from(JSON.stringify({ v: 3, t: 'acme', o: offsets })).toString('base64url');
    refused(payload({ 0: '999999999' }), /not signed/);
    refused(Buffer.from(JSON.stringify({ v: 2, t: 'acme', o: { 0: '1' } })).toString('base64url'), /not signed/);
    refused(consistencyTokens(new TextEncoder().encode('a key of my own')).encode('acme', { 0: '999999999' }), /not one this platform issued/);
    const mac = tokens.encode('acme', { 0: '1' }).split('.')[1] ?? '';
    refused(`${payload({ 0: '999999999' })}.${mac}`, /not one this platform issued/);
    refused('!!!', /malformed/);
  });
});
