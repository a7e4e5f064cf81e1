/**
 * Who may do what, as every entry point (HTTP and gRPC, write and read side) asks it:
 * authenticate the request's bearer token, then authorize the principal against what
 * the app declared for the command type or query. With `STRATA_AUTH=off` (local
 * development only, said loudly at start) every request is the development principal
 * and may do anything.
 */
import type { Config } from '../config.js';
import { ForbiddenError } from '../errors.js';
import type { Logger } from '../logger.js';
import { allows, everyRole, type AccessRule, type Principal } from './principal.js';
import { actingPrincipal, anyTenant } from './tenants.js';
import { createTokenVerifier } from './token-verifier.js';

export interface AccessControl {
  readonly enabled: boolean;
  /**
   * The principal of an `Authorization` header, acting for the tenant a request names
   * (`Strata-Tenant`, tenants.ts); UnauthenticatedError (401) when it has none that
   * verifies, ForbiddenError (403) when it may not act for the tenant named.
   */
  authenticate(authorization: string | undefined, requestedTenant?: string): Promise<Principal>;
  /** ForbiddenError (403) unless `rule` lets the principal do `what` with `input`. Undeclared means nobody. */
  authorize<Input>(rule: AccessRule<Input> | undefined, principal: Principal, input: Input, what: string): void;
}

/**
 * Who does what when authentication is off (local development only): every role, any
 * tenant the request names (the default one otherwise).
 */
const developmentPrincipal: Principal = { subject: 'local-developer', tenant: anyTenant, roles: [everyRole], scopes: [] };

export function createAccessControl(config: Pick<Config, 'auth'>, logger: Logger): AccessControl {
  if (!config.auth.enabled) {
    logger.warn('AUTHENTICATION IS OFF (STRATA_AUTH=off): anyone who can reach this service may run every command and query. For local development only.');
    return {
      enabled: false,
      authenticate: (_authorization, requestedTenant) => Promise.resolve(actingPrincipal(developmentPrincipal, requestedTenant)),
      authorize: () => undefined,
    };
  }
  const verifier = createTokenVerifier(config.auth);
  return {
    enabled: true,
    authenticate: async (authorization, requestedTenant) => actingPrincipal(await verifier.verify(authorization), requestedTenant),
    authorize(rule, principal, input, what) {
      if (!allows(rule, principal, input)) throw new ForbiddenError(`this principal may not ${what}`);
    },
  };
}
