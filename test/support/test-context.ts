/**
 * What the integration tests share: the configuration of the running stack, a silent
 * logger, and names that do not collide between runs.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';

export const config = loadConfig();
// Retriable client errors (a coordinator still loading) would only be noise: assertions speak.
export const logger = createLogger({ logLevel: 'silent' }, 'test');

/** A name unique to this test run, for topics, indices and keys. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
