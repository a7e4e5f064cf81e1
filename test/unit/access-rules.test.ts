/**
 * An app's access rules, as the platform applies them to a principal: given a rule,
 * when a principal asks with an input, then it passes or not. Undeclared is nobody.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allows, type AccessRule, type Principal } from '../../shared/auth/principal.js';

const principal = (roles: string[], scopes: string[] = [], subject = 'u-1'): Principal => ({ subject, tenant: 'acme', roles, scopes });
type Order = { customerId: string };
const placeOrder: AccessRule<{ data: Order }> = {
  roles: ['customer', 'clerk'],
  when: (who, { data }) => who.roles.includes('clerk') || data.customerId === who.subject,
};

describe('access rules', () => {
  it('lets nobody through a rule that is not declared', () => {
    assert.equal(allows(undefined, principal(['admin']), {}), false);
  });

  it('lets any verified principal through an empty rule', () => {
    assert.equal(allows({}, principal([]), {}), true);
  });

  it('needs one of the roles, and one of the scopes when scopes are listed', () => {
    assert.equal(allows({ roles: ['clerk', 'admin'] }, principal(['admin']), {}), true);
    assert.equal(allows({ roles: ['clerk', 'admin'] }, principal(['customer']), {}), false);
    assert.equal(allows({ roles: ['clerk'], scopes: ['orders:write'] }, principal(['clerk'], ['orders:read']), {}), false);
    assert.equal(allows({ roles: ['clerk'], scopes: ['orders:write'] }, principal(['clerk'], ['orders:write']), {}), true);
  });

  it('applies the rule over the principal and the request after the roles', () => {
    assert.equal(allows(placeOrder, principal(['customer'], [], 'c-7'), { data: { customerId: 'c-7' } }), true, 'a customer orders for herself');
    assert.equal(allows(placeOrder, principal(['customer'], [], 'c-7'), { data: { customerId: 'c-8' } }), false, 'not for another');
    assert.equal(allows(placeOrder, principal(['clerk'], [], 'k-1'), { data: { customerId: 'c-8' } }), true, 'a clerk for anyone');
    assert.equal(allows(placeOrder, principal(['guest'], [], 'c-8'), { data: { customerId: 'c-8' } }), false, 'the roles come first');
  });
});
