/**
 * Tenants: whose data a request reaches. A principal's tenant comes from its token;
 * a service's token names every tenant (`*`) and the request names the one it acts
 * for (`Strata-Tenant`, an HTTP header or gRPC metadata). After the front door,
 * `principal.tenant` is always one tenant, and everything below it (streams, read
 * models, consistency tokens, cursors, outcomes) is scoped by it. docs/security.md
 * tells the whole story.
 */
import { Type } from '@sinclair/typebox';
import { ForbiddenError, ValidationError } from '../errors.js';
import { defaultTenant, type Principal } from './principal.js';

/** The tenant claim of a principal that may act for any tenant: a service's. */
export const anyTenant = '*';

/** The header (and gRPC metadata key) naming the tenant a request acts for. */
export const tenantHeader = 'strata-tenant';

/**
 * A tenant's name, as a token, a header or the CLI gives it: neither the `/` that scopes
 * names nor the `:` that separates the parts of a Redis key, so no tenant's key can be
 * another tenant's (`doc:acme`'s shared key `k` would otherwise be acme's document `k`).
 */
export const tenantPattern = /^[A-Za-z0-9._-]{1,64}$/;
export const tenantRule = '1-64 characters of [A-Za-z0-9._-]';

/** A tenant as records written before `:` was refused may name it: read, never accepted anew. */
export const storedTenantPattern = /^[A-Za-z0-9._:-]{1,64}$/;
/** The tenant of a stored record, as its schema checks it (shared/record-decoder.ts). */
export const storedTenantSchema = Type.String({ pattern: storedTenantPattern.source });

/**
 * The principal as it acts in this request: a service (tenant `*`) for the tenant the
 * request names (the default tenant when it names none); anyone else for its own
 * tenant, and a request naming another is refused.
 */
export function actingPrincipal(principal: Principal, requested: string | undefined): Principal {
  if (requested !== undefined && !tenantPattern.test(requested)) {
    throw new ValidationError(`the ${tenantHeader} header must be ${tenantRule}`, tenantHeader);
  }
  if (principal.tenant === anyTenant) return { ...principal, tenant: requested ?? defaultTenant };
  if (requested !== undefined && requested !== principal.tenant) {
    throw new ForbiddenError(`this principal acts for its own tenant only, not for ${requested}`);
  }
  return principal;
}

/**
 * A name inside one tenant's part of a shared store (a read model's document or
 * key, a saga instance): `<tenant>/<name>`. Tenants hold no `/`, so two tenants'
 * names never meet, whatever the names.
 */
export const scoped = (tenant: string, name: string) => `${tenant}/${name}`;

/** The tenant and the name of a `scoped` name. */
export function unscoped(name: string): { tenant: string; name: string } {
  const slash = name.indexOf('/');
  return slash < 0 ? { tenant: defaultTenant, name } : { tenant: name.slice(0, slash), name: name.slice(slash + 1) };
}

/**
 * The Kafka key of an aggregate's records (events, commands, snapshots): its id in
 * the default tenant, so a single-tenant log reads as it always did, and
 * `<tenant>/<id>` in any other (ids never hold a `/`). The key picks the partition.
 */
export const streamKeyOf = (tenant: string, aggregateId: string) =>
  tenant === defaultTenant ? aggregateId : scoped(tenant, aggregateId);
