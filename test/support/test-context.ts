/**
 * What the integration tests share: the configuration of the running stack, a silent
 * logger, and names that do not collide between runs.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';

// The platform's tests of everything but access control run without it, as a developer
// would (STRATA_AUTH=off); the access-control tests and the platform started as users start
// it (start-command.test.ts) turn it on with tokens from the stack's Keycloak.
process.env.STRATA_AUTH ??= 'off';
// A development platform on the local stack, also where a test starts roles with
// `--no-stack` (which otherwise means production: cli/production-checks.ts).
process.env.STRATA_ENV ??= 'development';

export const config = loadConfig();
// Retriable client errors (a coordinator still loading) would only be noise: assertions speak.
export const logger = createLogger({ logLevel: 'silent' }, 'test');

/** A name unique to this test run, for topics, indices and keys. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
