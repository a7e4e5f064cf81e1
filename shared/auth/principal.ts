/**
 * Who is asking: taken from a verified access token (token-verifier.ts), carried into
 * the command record, the events' metadata, the decider's context and the trace.
 */

export interface Principal {
  /** The token's subject (`sub`, or the claim `STRATA_AUTH_SUBJECT_CLAIM` names): a user, or a service's account. */
  subject: string;
  /** The tenant whose data the principal reaches; `defaultTenant` for single-tenant apps. */
  tenant: string;
  roles: readonly string[];
  scopes: readonly string[];
  /** The OAuth client the token was issued to (`azp`), when the token names one. */
  clientId?: string;
}

/** The role of the local developer when authentication is off: every role. Never taken from a token. */
export const everyRole = '*';

/**
 * Whether the principal holds one of `roles` (the local developer, with authentication
 * off, holds them all): for a decider's rule that needs the aggregate's state, such as
 * "the order's customer or staff".
 */
export const hasRole = (principal: Pick<Principal, 'roles'>, roles: readonly string[]) =>
  principal.roles.includes(everyRole) || roles.some((role) => principal.roles.includes(role));

/** The tenant of a principal whose token names none: an app with one tenant never sees another. */
export const defaultTenant = 'default';

/**
 * What an app declares for a command type or a query: who may run it. A principal
 * passes when it has one of `roles` (or no roles are listed) and one of `scopes` (or
 * none are listed), and `when` (if any) holds. Not declared means nobody.
 */
export interface AccessRule<Input = unknown> {
  roles?: readonly string[];
  scopes?: readonly string[];
  /**
   * A rule over the principal and the request, e.g. a customer places orders only for
   * herself. (A method, so that a rule of a query with its own parameters is one of the
   * erased `Query` the app holds.)
   */
  when?(principal: Principal, input: Input): boolean;
}

export function allows<Input>(rule: AccessRule<Input> | undefined, principal: Principal, input: Input): boolean {
  if (rule === undefined) return false;
  const hasAny = (wanted: readonly string[] | undefined, held: readonly string[]) => wanted === undefined || wanted.some((entry) => held.includes(entry));
  return hasAny(rule.roles, principal.roles) && hasAny(rule.scopes, principal.scopes) && (rule.when?.(principal, input) ?? true);
}
