/**
 * Benchmarks with authentication on or off: the settings the platform runs with, and
 * the token a client sends, from the local stack's Keycloak (started when needed).
 * Rate limits are off in either case: one principal sends everything.
 */
import { localUserToken } from '../infra/stack/local-identity.js';
import { selectServers, up } from '../infra/stack/stack.js';
import { loadConfig, type Config } from '../shared/config.js';

export type AuthVariant = 'off' | 'on';

/** What the platform's processes run with. */
export const authSettings = (auth: AuthVariant): Record<string, string> => ({
  STRATA_AUTH: auth,
  STRATA_RATE_LIMIT_PER_MINUTE: '0',
  // The local stack's Keycloak: `strata start --no-stack` asks for the issuer to be named.
  STRATA_AUTH_ISSUERS: loadConfig().auth.issuers.join(','),
});

/** Starts the local Keycloak if `auth` is on and it is not running. */
export async function identityProviderFor(auth: AuthVariant, config: Config, progress: (line: string) => void): Promise<void> {
  if (auth === 'on') await up(config, selectServers(config, ['keycloak']), { step: progress, detail: () => undefined });
}

/** The headers a client sends: a fresh token (it lives five minutes) with `roles` (the workload's) when `auth` is on. */
export async function authorization(auth: AuthVariant, config: Config, roles: readonly string[]): Promise<Record<string, string>> {
  if (auth === 'off') return {};
  const token = await localUserToken(config, { username: 'bench', tenant: 'default', roles });
  return { authorization: `Bearer ${token}` };
}
