/**
 * A platform service calling another as itself (the saga runtime sending commands):
 * an access token from the identity provider with the client-credentials grant,
 * kept until shortly before it expires. None when authentication is off.
 */
import type { Config } from '../config.js';
import { UnavailableError } from '../errors.js';

export interface ServiceCredentials {
  /** The `authorization` value for the next call, or undefined when authentication is off. */
  authorization(): Promise<string | undefined>;
}

/** A token is renewed this long before it expires, so that none expires in flight. */
const renewBeforeMs = 30_000;

export function createServiceCredentials(config: Pick<Config, 'auth'>, client: { id: string; secret: string }): ServiceCredentials {
  if (!config.auth.enabled) return { authorization: () => Promise.resolve(undefined) };
  const [issuer] = config.auth.issuers;
  let current: { value: string; until: number } | undefined;
  let pending: Promise<string> | undefined;
  const fetchToken = async (): Promise<string> => {
    const discovery = await fetch(`${String(issuer)}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
    const { token_endpoint: tokenEndpoint } = (await discovery.json()) as { token_endpoint?: string };
    if (tokenEndpoint === undefined) throw new UnavailableError('the identity provider names no token endpoint', 2);
    const response = await fetch(tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }),
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await response.json()) as { access_token?: string; expires_in?: number; error_description?: string };
    if (!response.ok || body.access_token === undefined) throw new UnavailableError(`the identity provider refused ${client.id}'s credentials: ${body.error_description ?? String(response.status)}`, 5);
    current = { value: `Bearer ${body.access_token}`, until: Date.now() + (body.expires_in ?? 60) * 1000 - renewBeforeMs };
    return current.value;
  };
  return {
    authorization() {
      if (current !== undefined && current.until > Date.now()) return Promise.resolve(current.value);
      pending ??= fetchToken().finally(() => { pending = undefined; });
      return pending;
    },
  };
}
