/**
 * Keycloak, the local identity provider (part of the stack unless STRATA_AUTH=off, and
 * `strata infra up keycloak` by name). Its distribution in development mode, on
 * loopback only, with its H2 database in the stack's data folder; once healthy, the
 * realm of infra/keycloak/realm-strata.json is created through the admin API if it is
 * not there yet (an existing realm keeps its users; its clients are brought up to date).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../shared/config.js';
import { StackError } from '../../shared/errors.js';
import { packageFile } from '../../shared/package-files.js';
import { ensureArtifacts, readVersions } from './artifacts.js';
import { findJava } from './prerequisites.js';
import type { ServerDefinition } from './server.js';

/** The realm the local stack's tokens come from, and its clients and users: infra/keycloak/realm-strata.json. */
export const localRealm = 'strata';
const realmFile = packageFile('localRealm');
/** The local administrator, created at the first start; loopback only. */
const admin = { username: 'admin', password: 'admin' };

const base = (config: Config) => `http://127.0.0.1:${String(config.keycloak.port)}`;

async function adminToken(config: Config): Promise<string> {
  const response = await fetch(`${base(config)}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', ...admin }),
    signal: AbortSignal.timeout(10_000),
  }).catch(() => {
    throw new StackError(`the local identity provider does not answer at ${base(config)}`, 'start it: strata infra up keycloak');
  });
  if (!response.ok) throw new StackError(`keycloak's admin login answered ${String(response.status)}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Calls of the admin REST API on the local realm, as the local administrator. */
export async function keycloakAdmin(config: Config) {
  const token = await adminToken(config);
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${base(config)}/admin/realms/${localRealm}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new StackError(`keycloak's admin API answered ${String(response.status)} to ${method} ${path}: ${await response.text()}`);
    const text = await response.text();
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown) => call('POST', path, body),
    put: (path: string, body: unknown) => call('PUT', path, body),
    delete: (path: string, body?: unknown) => call('DELETE', path, body),
  };
}

interface ClientFile {
  clientId: string;
  defaultClientScopes: string[];
  protocolMappers: { name: string }[];
}

/**
 * A realm made by an earlier Strata is kept (its users too), but its clients get the
 * file's mappers and default scopes: the subject mapped to the user name came later.
 */
async function updateClients(config: Config): Promise<void> {
  const admin = await keycloakAdmin(config);
  const { clients } = JSON.parse(readFileSync(realmFile, 'utf8')) as { clients: ClientFile[] };
  for (const wanted of clients) {
    const [client] = (await admin.get(`/clients?clientId=${encodeURIComponent(wanted.clientId)}`)) as { id: string }[];
    if (client === undefined) continue;
    const path = `/clients/${client.id}`;
    const mappers = (await admin.get(`${path}/protocol-mappers/models`)) as { name: string }[];
    for (const mapper of wanted.protocolMappers) if (!mappers.some((found) => found.name === mapper.name)) await admin.post(`${path}/protocol-mappers/models`, mapper);
    const scopes = (await admin.get(`${path}/default-client-scopes`)) as { id: string; name: string }[];
    for (const scope of scopes) if (!wanted.defaultClientScopes.includes(scope.name)) await admin.delete(`${path}/default-client-scopes/${scope.id}`);
  }
}

export const keycloakServer: ServerDefinition = {
  name: 'keycloak',
  artifact: 'keycloak',
  optional: true,
  // A first start builds its configuration and creates its schema: about a minute on 2 idle
  // cores, and 173 s was seen on a busy machine.
  startTimeoutMs: 300_000,
  ports: (config) => [
    { port: config.keycloak.port, variable: 'STRATA_KEYCLOAK_PORT' },
    { port: config.keycloak.managementPort, variable: 'STRATA_KEYCLOAK_MANAGEMENT_PORT' },
  ],
  address: (config) => base(config),

  async prepare({ config, dataDir, reporter }) {
    const java = findJava(21, 'Keycloak');
    const { keycloakHome } = await ensureArtifacts(config.stack.artifactsDir, ['keycloak'], reporter);
    return {
      command: join(keycloakHome, 'bin', 'kc.sh'),
      args: [
        'start-dev',
        '--http-host=127.0.0.1',
        `--http-port=${String(config.keycloak.port)}`,
        `--http-management-port=${String(config.keycloak.managementPort)}`,
        '--health-enabled=true',
        `--db-url=jdbc:h2:file:${join(dataDir, 'h2', 'keycloakdb')};NON_KEYWORDS=VALUE`,
      ],
      cwd: dataDir,
      env: {
        JAVA_HOME: java.home,
        JAVA_OPTS_KC_HEAP: `-Xms64m -Xmx${config.keycloak.heap}`,
        KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
        KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
      },
    };
  },

  async probe(config) {
    const response = await fetch(`http://127.0.0.1:${String(config.keycloak.managementPort)}/health/ready`, { signal: AbortSignal.timeout(2000) });
    const health = (await response.json()) as { status?: string };
    if (health.status !== 'UP') throw new Error(`keycloak health is ${String(health.status)}`);
    return readVersions().keycloak;
  },

  async configure(config) {
    const existing = await fetch(`${base(config)}/realms/${localRealm}`, { signal: AbortSignal.timeout(5000) });
    if (existing.ok) {
      await updateClients(config);
      return;
    }
    const response = await fetch(`${base(config)}/admin/realms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await adminToken(config)}`, 'content-type': 'application/json' },
      body: readFileSync(realmFile, 'utf8'),
      signal: AbortSignal.timeout(60_000),
    });
    // 409: another `up` created it meanwhile.
    if (!response.ok && response.status !== 409) throw new Error(`creating the ${localRealm} realm answered ${String(response.status)}: ${await response.text()}`);
  },
};
