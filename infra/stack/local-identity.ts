/**
 * Tokens from the local stack's Keycloak, for development and tests: a user of the
 * local realm with the given tenant and roles (made, or brought up to date, through
 * the admin API) signs in with the password grant; a service signs in with its client
 * credentials. Never for production: the local administrator's password is fixed.
 */
import type { Config } from '../../shared/config.js';
import { StackError } from '../../shared/errors.js';
import { keycloakAdmin, localRealm } from './keycloak-server.js';

export interface LocalUser {
  /** The user name: its tokens' subject (`sub`), as the local realm maps it. */
  username: string;
  tenant: string;
  roles: readonly string[];
}

const realmUrl = (config: Config) => `http://127.0.0.1:${String(config.keycloak.port)}/realms/${localRealm}`;

async function tokenOf(config: Config, form: Record<string, string>): Promise<string> {
  const response = await fetch(`${realmUrl(config)}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams(form),
    signal: AbortSignal.timeout(10_000),
  }).catch(() => {
    throw new StackError(`the local identity provider does not answer at ${realmUrl(config)}`, 'start it: strata infra up keycloak');
  });
  const body = (await response.json()) as { access_token?: string; error_description?: string };
  if (!response.ok || body.access_token === undefined) throw new StackError(`the local identity provider refused the sign-in: ${body.error_description ?? String(response.status)}`);
  return body.access_token;
}

/** An access token for `user`, made or updated in the local realm first (its password is its name). */
export async function localUserToken(config: Config, user: LocalUser): Promise<string> {
  const admin = await keycloakAdmin(config);
  const users = (await admin.get(`/users?exact=true&username=${encodeURIComponent(user.username)}`)) as { id: string }[];
  const representation = {
    username: user.username,
    enabled: true,
    emailVerified: true,
    firstName: user.username,
    lastName: user.tenant,
    email: `${user.username}@${user.tenant}.example`,
    attributes: { tenant: [user.tenant] },
    requiredActions: [],
  };
  let id = users[0]?.id;
  if (id === undefined) {
    await admin.post('/users', { ...representation, credentials: [{ type: 'password', value: user.username, temporary: false }] });
    id = ((await admin.get(`/users?exact=true&username=${encodeURIComponent(user.username)}`)) as { id: string }[])[0]?.id;
    if (id === undefined) throw new StackError(`the local identity provider did not keep the user ${user.username}`);
  } else {
    await admin.put(`/users/${id}`, representation);
  }
  const known = (await admin.get('/roles')) as { id: string; name: string }[];
  const unknown = user.roles.filter((role) => !known.some((entry) => entry.name === role));
  if (unknown.length > 0) throw new StackError(`the local realm has no role ${unknown.join(', ')}`, `its roles: ${known.map((role) => role.name).join(', ')}`);
  const mapped = (await admin.get(`/users/${id}/role-mappings/realm`)) as { id: string; name: string }[];
  const stale = mapped.filter((role) => known.some((entry) => entry.name === role.name) && !user.roles.includes(role.name) && !role.name.startsWith('default-roles'));
  if (stale.length > 0) await admin.delete(`/users/${id}/role-mappings/realm`, stale);
  await admin.post(`/users/${id}/role-mappings/realm`, known.filter((role) => user.roles.includes(role.name)));
  return tokenOf(config, { grant_type: 'password', client_id: 'strata-cli', username: user.username, password: user.username });
}

/** An access token for a service (client credentials), e.g. the saga's `strata-saga`. */
export const localServiceToken = (config: Config, clientId: string, secret: string) =>
  tokenOf(config, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret });
