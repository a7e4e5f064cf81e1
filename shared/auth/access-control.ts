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
import { allows, developmentPrincipal, type AccessRule, type Principal } from './principal.js';
import { createTokenVerifier } from './token-verifier.js';

export interface AccessControl {
  readonly enabled: boolean;
  /** The principal of an `Authorization` header; UnauthenticatedError (401) when it has none that verifies. */
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** ForbiddenError (403) unless `rule` lets the principal do `what` with `input`. Undeclared means nobody. */
  authorize<Input>(rule: AccessRule<Input> | undefined, principal: Principal, input: Input, what: string): void;
}

export function createAccessControl(config: Pick<Config, 'auth'>, logger: Logger): AccessControl {
  if (!config.auth.enabled) {
    logger.warn('AUTHENTICATION IS OFF (STRATA_AUTH=off): anyone who can reach this service may run every command and query. For local development only.');
    const principal = developmentPrincipal([]);
    return {
      enabled: false,
      authenticate: () => Promise.resolve(principal),
      authorize: () => undefined,
    };
  }
  const verifier = createTokenVerifier(config.auth);
  return {
    enabled: true,
    authenticate: (authorization) => verifier.verify(authorization),
    authorize(rule, principal, input, what) {
      if (!allows(rule, principal, input)) throw new ForbiddenError(`this principal may not ${what}`);
    },
  };
}
