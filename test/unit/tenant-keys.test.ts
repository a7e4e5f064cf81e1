/**
 * No two (tenant, name) pairs meet in a store's keys, whatever a tenant (of the
 * tenant alphabet) and a name (any text) hold: a property over random tenants and
 * names, built mostly from the pieces keys are made of (`doc`, `:`, `/`…), so that the
 * near misses are tried: with `:` in tenants, it finds the collision at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scoped, streamKeyOf, tenantPattern } from '../../shared/auth/tenants.js';
import { defaultTenant } from '../../shared/auth/principal.js';
import { identifierPattern } from '../../shared/identifiers.js';
import { documentKey, redisNamespace } from '../../stores/redis/redis-layout.js';

const namespace = redisNamespace({ topics: { prefix: 'strata', partitions: 4 } }, { name: 'orders', version: 1 });
// Built from the pieces keys are made of, so that near misses are tried, not only random text.
const pieces = ['doc', 'acme', 'k', ':', '/', '.', '-', 'checkpoint', 'v1', 'live'];
const joined = (minLength: number, maxLength: number) => fc.array(fc.constantFrom(...pieces), { minLength, maxLength }).map((parts) => parts.join(''));
const tenants = fc.oneof(joined(1, 4).filter((tenant) => tenantPattern.test(tenant)), fc.stringMatching(tenantPattern));
const names = fc.oneof(joined(0, 5), fc.string());
const kinds = fc.constantFrom('document' as const, 'shared' as const);

/** The Redis key a projection's document or shared key of a tenant is stored under. */
const redisKey = (kind: 'document' | 'shared', tenant: string, name: string) =>
  kind === 'document' ? namespace.document(scoped(tenant, name)) : namespace.key(scoped(tenant, name));

describe("tenants' keys", () => {
  it('tenants hold neither the / that scopes names nor the : that separates Redis key parts', () => {
    fc.assert(fc.property(fc.stringMatching(tenantPattern), (tenant) => !tenant.includes('/') && !tenant.includes(':')));
  });

  it('a Redis document or shared key reads back as the one tenant and name it was made of', () => {
    // The layout's inverse: a key that can be read back one way only is one no other pair makes.
    const readBack = (key: string) => {
      const rest = key.slice(namespace.prefix.length);
      const kind = rest.startsWith(documentKey('')) ? 'document' : 'shared';
      const name = kind === 'document' ? rest.slice(documentKey('').length) : rest;
      const slash = name.indexOf('/');
      return { kind, tenant: name.slice(0, slash), name: name.slice(slash + 1) };
    };
    fc.assert(
      fc.property(kinds, tenants, names, (kind, tenant, name) => {
        assert.deepEqual(readBack(redisKey(kind, tenant, name)), { kind, tenant, name });
      }),
      { numRuns: 20_000 },
    );
    // What a tenant with : could do: `doc:acme`'s shared key `k` is acme's document `k`.
    assert.equal(tenantPattern.test('doc:acme'), false);
    assert.equal(namespace.key(scoped('doc:acme', 'k')), namespace.document(scoped('acme', 'k')));
  });

  it("a Kafka key names one tenant's aggregate only (ids are identifiers: no /)", () => {
    const ids = fc.stringMatching(new RegExp(identifierPattern));
    fc.assert(
      fc.property(fc.oneof(tenants, fc.constant(defaultTenant)), ids, fc.oneof(tenants, fc.constant(defaultTenant)), ids, (tenantA, idA, tenantB, idB) => {
        fc.pre(tenantA !== tenantB || idA !== idB);
        return streamKeyOf(tenantA, idA) !== streamKeyOf(tenantB, idB);
      }),
      { numRuns: 20_000 },
    );
  });
});
