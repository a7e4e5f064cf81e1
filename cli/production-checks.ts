/**
 * What `strata start` refuses in production (STRATA_ENV=production, implied by
 * `--no-stack`): each default that suits a laptop and would be a hole on a server.
 * Each refusal is one line naming the setting; STRATA_ENV=development lifts them all.
 */
import { isIP } from 'node:net';
import type { Config } from '../shared/config.js';

const loopbackHost = (host: string) => host === 'localhost' || host === '[::1]' || (isIP(host) === 4 && host.startsWith('127.'));

/** The development defaults this configuration runs with; none: fit for production. */
export function developmentDefaults(config: Config, env: NodeJS.ProcessEnv, runs: { sagas: boolean }): string[] {
  const refusals: string[] = [];
  const unset = (variable: string) => (env[variable] ?? '') === '';
  if (!config.auth.enabled) refusals.push('STRATA_AUTH=off: anyone who reaches a service may run every command and query; turn it on, with STRATA_AUTH_ISSUERS');
  if (unset('STRATA_CURSOR_SECRET')) refusals.push("STRATA_CURSOR_SECRET is the local default key, which anyone can read in Strata's source: set a secret of your own, the same for every query instance");
  if (config.auth.enabled && runs.sagas && unset('STRATA_SAGA_CLIENT_SECRET')) {
    refusals.push("STRATA_SAGA_CLIENT_SECRET is the local realm's: set the secret your identity provider gave the saga client");
  }
  for (const issuer of config.auth.enabled ? config.auth.issuers : []) {
    const url = new URL(issuer);
    if (url.protocol === 'http:' && !loopbackHost(url.hostname)) refusals.push(`STRATA_AUTH_ISSUERS names ${issuer}: keys fetched over plain HTTP from another machine can be forged on the way; use https://`);
  }
  return refusals;
}
