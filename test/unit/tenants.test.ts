/**
 * Tenants as the front door resolves them and as the stores name them: a user acts
 * for its own tenant only, a service (`*`) for the one the request names; names of
 * two tenants never meet; the default tenant's Kafka keys are the aggregate ids.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultTenant, type Principal } from '../../shared/auth/principal.js';
import { actingPrincipal, anyTenant, scoped, streamKeyOf, unscoped } from '../../shared/auth/tenants.js';
import { ForbiddenError, ValidationError } from '../../shared/errors.js';
import { decodeEvent, encodeEvent } from '../../shared/event-envelope.js';
import { testEvent } from '../../projections/given-when-then.js';

const user: Principal = { subject: 'alice', tenant: 'acme', roles: ['customer'], scopes: [] };
const service: Principal = { subject: 'service-account-strata-saga', tenant: anyTenant, roles: [], scopes: [] };

describe('tenants', () => {
  it("lets a user act for its own tenant, named or not, and for no other", () => {
    assert.equal(actingPrincipal(user, undefined).tenant, 'acme');
    assert.equal(actingPrincipal(user, 'acme').tenant, 'acme');
    assert.throws(() => actingPrincipal(user, 'globex'), ForbiddenError);
  });

  it('lets a service act for the tenant the request names, the default one when it names none', () => {
    assert.equal(actingPrincipal(service, 'globex').tenant, 'globex');
    assert.equal(actingPrincipal(service, undefined).tenant, defaultTenant);
  });

  it('refuses a tenant name outside the identifier alphabet, and a wildcard, as a bad request', () => {
    for (const bad of ['', '*', 'acme/x', 'a,b', 'acme\r\nX-Injected: 1', 'x'.repeat(65)]) {
      assert.throws(() => actingPrincipal(service, bad), ValidationError, JSON.stringify(bad));
    }
  });

  it("scopes names so that two tenants' never meet, whatever the names", () => {
    assert.notEqual(scoped('acme', 'b/c'), scoped('acme/b', 'c').replace(/^acme\/b\//, 'acme/'));
    assert.deepEqual(unscoped(scoped('acme', 'order:o/1')), { tenant: 'acme', name: 'order:o/1' });
    assert.deepEqual(unscoped('no-tenant'), { tenant: defaultTenant, name: 'no-tenant' });
  });

  it("keys the default tenant's records by aggregate id (a single-tenant log reads as before) and others' by tenant too", () => {
    assert.equal(streamKeyOf(defaultTenant, 'o-1'), 'o-1');
    assert.equal(streamKeyOf('acme', 'o-1'), 'acme/o-1');
    const event = { ...testEvent('Order', 'o-1', 1, 'OrderPlaced', {}), tenant: 'acme' };
    const record = encodeEvent(event);
    assert.equal(record.key, 'acme/o-1');
    assert.equal(record.headers?.['strata-tenant'], 'acme');
    assert.equal(decodeEvent({ value: Buffer.from(String(record.value)) }).tenant, 'acme');
  });

  it('reads an event from before tenants as the default tenant’s, and refuses a malformed tenant', () => {
    const { tenant: _tenant, ...old } = testEvent('Order', 'o-1', 1, 'OrderPlaced', {});
    assert.equal(decodeEvent({ value: Buffer.from(JSON.stringify(old)) }).tenant, defaultTenant);
    assert.throws(() => decodeEvent({ value: Buffer.from(JSON.stringify({ ...old, tenant: 'a/b' })) }), /tenant/);
  });
});
