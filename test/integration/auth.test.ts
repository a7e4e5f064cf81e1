/**
 * Who may do what, with STRATA_AUTH=on, against the stack's real Keycloak and a
 * second issuer this test runs (real RSA keys, a real discovery document and key
 * set), for the tokens no honest provider issues: expired, not yet valid, for
 * another audience, from a key that rotated out, with a subject made to inject a
 * header. Each refusal is the promised status with a problem document, and nothing
 * reaches the log. Two tenants with the same aggregate ids: neither reads, searches,
 * ranks or commands the other's data, whatever ids, cursors or tokens it brings.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { down, selectServers, up } from '../../infra/stack/stack.js';
import { localUserToken } from '../../infra/stack/local-identity.js';
import { createServiceCredentials } from '../../shared/auth/service-credentials.js';
import { createTokenVerifier } from '../../shared/auth/token-verifier.js';
import { loadConfig } from '../../shared/config.js';
import { decodeEvent, type EventEnvelope } from '../../shared/event-envelope.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { deleteWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import { startQueryService, type QueryService } from '../../read-side/query-service.js';
import { queryProtoOptions, queryServiceProto } from '../../read-side/grpc-query-service.js';
import { startProjector, type Projector } from '../../projections/projector.js';
import { startCommandProcessor, type CommandProcessor } from '../../write-side/command-processor/command-processor.js';
import { startGateway, type Gateway } from '../../write-side/gateway/gateway.js';
import { commandServiceProto } from '../../write-side/gateway/grpc-command-service.js';
import { createCommandSender } from '../../write-side/saga/command-sender.js';
import { streamReporter } from '../../infra/stack/reporter.js';
import counterApp from '../apps/counter-app.js';
import shop from '../../examples/shop/app.js';
import { logger, uniqueName } from '../support/test-context.js';
import { readWholeTopic } from '../support/topic-reader.js';

type Key = Awaited<ReturnType<typeof generateKeyPair>> & { kid: string };

/** An OpenID issuer of the test's own: a discovery document and a key set that can be rotated. */
async function testIssuer() {
  let published: JWK[] = [];
  const server: Server = createServer((request, response) => {
    const url = `http://127.0.0.1:${String((server.address() as { port: number }).port)}`;
    response.setHeader('content-type', 'application/json');
    if (request.url === '/.well-known/openid-configuration') response.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks` }));
    else if (request.url === '/jwks') response.end(JSON.stringify({ keys: published }));
    else response.writeHead(404).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${String((server.address() as { port: number }).port)}`;
  const newKey = async (kid: string): Promise<Key> => ({ ...(await generateKeyPair('RS256', { extractable: true })), kid });
  return {
    issuer,
    newKey,
    async publish(keys: readonly Key[]) {
      published = await Promise.all(keys.map(async (key) => ({ ...(await exportJWK(key.publicKey)), kid: key.kid, alg: 'RS256', use: 'sig' })));
    },
    sign: (key: Key, claims: Record<string, unknown>, options: { issuer?: string; expiresIn?: number | string; notBefore?: number | string } = {}) =>
      new SignJWT({ aud: 'strata-api', tenant: 'acme', realm_access: { roles: ['admin'] }, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .setIssuer(options.issuer ?? issuer)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '5m')
        .setNotBefore(options.notBefore ?? '0s')
        .sign(key.privateKey),
    close: () => new Promise<void>((resolve) => { server.close(() => { resolve(); }); }),
  };
}

const base64url = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('authentication and authorization (STRATA_AUTH=on)', () => {
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  let current: Key;
  let rotatedOut: Key;
  let gateway: Gateway;
  let processor: CommandProcessor;
  let queries: QueryService;
  let projector: Projector;
  let startedKeycloak: string[] = [];
  const baseConfig = loadConfig();
  const keycloakIssuer = baseConfig.auth.issuers[0] ?? '';
  const prefix = uniqueName('test-auth');
  let config = baseConfig;
  let env: Record<string, string> = {};
  const log = createLogClient(baseConfig, { clientId: 'strata-test', logger });
  const tokens = new Map<string, string>();
  const tokenOf = async (username: string, tenant: string, roles: string[]) => {
    const known = tokens.get(username);
    if (known !== undefined) return known;
    const token = await localUserToken(config, { username, tenant, roles });
    tokens.set(username, token);
    return token;
  };

  const post = async (type: string, aggregateId: string, headers: Record<string, string>) => {
    const response = await fetch(`${gateway.url}/commands/${type}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ aggregateId, data: type === 'Increment' ? { by: 1 } : {} }),
    });
    return { status: response.status, challenge: response.headers.get('www-authenticate'), type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const eventsOf = async (aggregateId: string) =>
    (await readWholeTopic(log, writeSideTopics(config).events, { partitions: 2 })).map((record) => decodeEvent(record)).filter((event) => event.aggregateId === aggregateId);
  const allEvents = async () => (await readWholeTopic(log, writeSideTopics(config).events, { partitions: 2 })).map((record) => decodeEvent(record));
  /**
   * The log once `done` holds of it: a transaction's commit returns before its markers reach
   * every partition, so a read_committed reader may see a write a moment after its answer.
   */
  const logOnce = async (done: (events: EventEnvelope[]) => boolean) => {
    for (const deadline = Date.now() + 15_000; ; await new Promise((resolve) => setTimeout(resolve, 200))) {
      const events = await allEvents();
      if (done(events) || Date.now() > deadline) return events;
    }
  };

  /** The refusal of a request to the write API, and that the command left nothing in the log. */
  async function refused(headers: Record<string, string>, status: 401 | 403, detail: RegExp, aggregateId = uniqueName('refused')) {
    const answer = await post('Increment', aggregateId, headers);
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.match(answer.type ?? '', /application\/problem\+json/);
    assert.equal(answer.body.type, `https://strata.dev/problems/${status === 401 ? 'unauthenticated' : 'forbidden'}`);
    assert.match(String(answer.body.detail), detail);
    if (status === 401) assert.match(answer.challenge ?? '', /^Bearer realm="strata"/);
    assert.deepEqual(await eventsOf(aggregateId), [], 'nothing appended');
  }

  before(async () => {
    startedKeycloak = (await up(baseConfig, selectServers(baseConfig, ['keycloak']), streamReporter(process.stderr))).started;
    issuer = await testIssuer();
    [current, rotatedOut] = await Promise.all([issuer.newKey('current'), issuer.newKey('rotated-out')]);
    await issuer.publish([current]);
    env = {
      STRATA_AUTH: 'on',
      STRATA_AUTH_ISSUERS: `${keycloakIssuer},${issuer.issuer}`,
      STRATA_TOPIC_PREFIX: prefix,
      STRATA_PARTITIONS: '2',
    };
    config = loadConfig({ ...process.env, ...env });
    gateway = await startGateway({ log, config, domain: counterApp.domain, logger, port: 0, grpcPort: 0 });
    processor = await startCommandProcessor({ log, config, domain: counterApp.domain, logger });
    queries = await startQueryService({ config, logger, queries: counterApp.queries, port: 0, grpcPort: 0 });
    projector = await startProjector({ log, config, logger, projections: counterApp.projections, events: counterApp.domain.events });
  });

  after(async () => {
    await projector.stop();
    await queries.stop();
    await gateway.stop();
    await processor.stop();
    await issuer.close();
    await deleteWriteSideTopics(log, config);
    if (startedKeycloak.length > 0) await down(baseConfig, selectServers(baseConfig, startedKeycloak), { purge: false }, streamReporter(process.stderr));
  });

  it('accepts a clerk from Keycloak and records who did it in the event', async () => {
    const token = await tokenOf('test-clerk', 'acme', ['clerk']);
    const aggregateId = uniqueName('counted');
    const answer = await post('Increment', aggregateId, bearer(token));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const event = (await logOnce((events) => events.some((candidate) => candidate.aggregateId === aggregateId))).find((candidate) => candidate.aggregateId === aggregateId);
    const actor = event?.actor;
    assert.ok(actor !== undefined, 'the event records its actor');
    assert.equal(actor.tenant, 'acme');
    assert.equal(actor.clientId, 'strata-cli');
    assert.equal(actor.subject, 'test-clerk', "the local realm's subject is the user name");
  });

  it('refuses a missing, malformed or forged token with 401 and WWW-Authenticate, appending nothing', async () => {
    await refused({}, 401, /send an access token/);
    await refused({ authorization: 'Bearer not-a-jwt' }, 401, /not "Bearer" and a JWT/);
    await refused({ authorization: 'Basic dXNlcjpwYXNz' }, 401, /not "Bearer"/);
    const genuine = await tokenOf('test-clerk', 'acme', ['clerk']);
    const [header, payload, signature = ''] = genuine.split('.');
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    await refused(bearer(`${String(header)}.${String(payload)}.${flipped}`), 401, /signature does not verify/);
    // `alg: none`, claiming Keycloak's issuer.
    const claims = JSON.parse(Buffer.from(String(payload), 'base64url').toString()) as object;
    await refused(bearer(`${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`), 401, /cannot be verified|algorithm/);
    // HMAC keyed with a public key: the classic confusion; only asymmetric algorithms are accepted.
    const hmac = await new SignJWT(claims as Record<string, unknown>).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(JSON.stringify(await exportJWK(current.publicKey))));
    await refused(bearer(hmac), 401, /algorithm that is not accepted/);
  });

  it('refuses expired, not yet valid, foreign, mis-addressed and rotated-out tokens', async () => {
    await refused(bearer(await issuer.sign(current, { sub: 'someone' }, { expiresIn: Math.floor(Date.now() / 1000) - 120 })), 401, /expired/);
    await refused(bearer(await issuer.sign(current, { sub: 'someone' }, { notBefore: '10m' })), 401, /nbf/);
    await refused(bearer(await issuer.sign(current, { sub: 'someone' }, { issuer: 'https://elsewhere.example' })), 401, /not from an accepted issuer/);
    await refused(bearer(await issuer.sign(current, { sub: 'someone', aud: 'another-api' })), 401, /aud/);
    await refused(bearer(await issuer.sign(rotatedOut, { sub: 'someone' })), 401, /no key of the issuer's matches/);
    await refused(bearer(await issuer.sign(current, { sub: 'evil\r\nX-Injected: 1' })), 401, /no usable subject/);
    // A key of the wrong type under a published key's id: an EC signature where the issuer's key is RSA.
    const ec = await generateKeyPair('ES256');
    const wrongType = await new SignJWT({ aud: 'strata-api', sub: 'someone' }).setProtectedHeader({ alg: 'ES256', kid: current.kid }).setIssuer(issuer.issuer).setExpirationTime('5m').sign(ec.privateKey);
    await refused(bearer(wrongType), 401, /no key of the issuer's matches/);
    // The same issuer's valid token goes through: the refusals above were about the token.
    const valid = await post('Increment', uniqueName('issued'), bearer(await issuer.sign(current, { sub: 'someone' })));
    assert.equal(valid.status, 200, JSON.stringify(valid.body));
  });

  it('takes a key the issuer rotated in, once it publishes it', async () => {
    const next = await issuer.newKey('rotated-in');
    await issuer.publish([current, next]);
    // The verifier looks for a key it has not seen at most every 2 s.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const answer = await post('Increment', uniqueName('rotated'), bearer(await issuer.sign(next, { sub: 'someone' })));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });

  it('lets a role read but not write, and a rule over the request refuse what the role allows', async () => {
    const customer = await tokenOf('test-customer', 'acme', ['customer']);
    await refused(bearer(customer), 403, /may not send Increment/);
    const read = await fetch(`${queries.url}/counters/${uniqueName('unknown')}`, { headers: bearer(customer) });
    assert.equal(read.status, 404, 'authorized to read: the counter is simply not there');
    const anonymous = await fetch(`${queries.url}/counters/x`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
    const admin = bearer(await issuer.sign(current, { sub: 'an-admin' }));
    const kept = await post('Reset', 'kept-1', admin);
    assert.equal(kept.status, 403, 'the rule refuses a reset of a kept counter');
    const health = await fetch(`${queries.url}/healthz`);
    assert.equal(health.status, 200, 'health needs no token');
  });

  it("keeps tenants apart: a token of one never reads, searches, ranks or commands another's data, even by the same ids", async () => {
    const acme = bearer(await tokenOf('test-clerk', 'acme', ['clerk']));
    const globex = bearer(await tokenOf('test-globex-clerk', 'globex', ['clerk']));
    type Written = { status: number; body: { commandId?: string; version?: number; consistencyToken?: string; type?: string; field?: string } };
    const write = async (headers: Record<string, string>, aggregateId: string, data: object, extra: Record<string, string> = {}): Promise<Written> => {
      const response = await fetch(`${gateway.url}/commands/Increment`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers, ...extra },
        body: JSON.stringify({ aggregateId, data }),
      });
      return { status: response.status, body: (await response.json()) as Written['body'] };
    };
    const read = async (headers: Record<string, string>, path: string, consistencyToken?: string) => {
      const response = await fetch(`${queries.url}${path}`, { headers: { ...headers, ...(consistencyToken === undefined ? {} : { 'x-consistency-token': consistencyToken }) } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const shared = uniqueName('shared');
    const acmeOnly = uniqueName('acme-only');

    // acme counts `shared` to 6 and has a counter globex never made; both labelled with a word globex must never find.
    const first = await write(acme, shared, { by: 3, label: 'acmesecret' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal((await write(acme, shared, { by: 3 })).body.version, 2);
    const acmeLast = await write(acme, acmeOnly, { by: 7, label: 'acmesecret' });
    assert.equal(acmeLast.body.version, 1);

    // globex's `shared` is its own stream: version 1, counting from 0. The same Idempotency-Key as acme's
    // first command is globex's own command, not a retry of acme's: it does not get acme's outcome.
    const globexShared = await write(globex, shared, { by: 1, label: 'globexown' }, { 'idempotency-key': String(first.body.commandId) });
    assert.equal(globexShared.status, 200, JSON.stringify(globexShared.body));
    assert.equal(globexShared.body.version, 1, "globex's shared starts at version 1, untouched by acme's");
    assert.equal(globexShared.body.commandId, first.body.commandId);
    // A command of globex's on acme's only counter makes globex's own counter of that id.
    assert.equal((await write(globex, acmeOnly, { by: 1 })).body.version, 1);
    // Naming another tenant is refused, and appends nothing.
    const claimed = await write(globex, uniqueName('claimed'), { by: 1 }, { 'strata-tenant': 'acme' });
    assert.equal(claimed.status, 403);
    assert.equal(claimed.body.type, 'https://strata.dev/problems/forbidden');

    // The log: acme's streams hold acme's events only, with gapless versions; globex's likewise.
    const logged = await logOnce((events) => events.filter((event) => event.aggregateId === shared || event.aggregateId === acmeOnly).length >= 5);
    const streamOf = (tenant: string, id: string) => logged.filter((event) => event.tenant === tenant && event.aggregateId === id).map((event) => [event.version, (event.data as { value: number }).value]);
    assert.deepEqual(streamOf('acme', shared), [[1, 3], [2, 6]]);
    assert.deepEqual(streamOf('globex', shared), [[1, 1]]);
    assert.deepEqual(streamOf('acme', acmeOnly), [[1, 7]]);
    assert.deepEqual(streamOf('globex', acmeOnly), [[1, 1]]);
    assert.ok(logged.every((event) => event.actor === undefined || event.actor.tenant === event.tenant), "every event's actor acted for the event's tenant");

    // Reads: each tenant sees its own document of an id (waiting on its own writes' tokens).
    const acmeRead = await read(acme, `/counters/${acmeOnly}`, acmeLast.body.consistencyToken);
    assert.deepEqual([acmeRead.status, acmeRead.body.value, acmeRead.body.label], [200, 7, 'acmesecret']);
    assert.equal((await read(acme, `/counters/${shared}`, (await write(acme, uniqueName('sync'), { by: 1 })).body.consistencyToken)).body.value, 6);
    const globexRead = await read(globex, `/counters/${shared}`, globexShared.body.consistencyToken);
    assert.deepEqual([globexRead.status, globexRead.body.value, globexRead.body.label], [200, 1, 'globexown']);
    // acme's consistency token is acme's: brought by globex it is refused before anything is read.
    const stolenToken = await read(globex, `/counters/${shared}`, acmeLast.body.consistencyToken);
    assert.deepEqual([stolenToken.status, stolenToken.body.field], [400, 'X-Consistency-Token']);
    // And the outcome of acme's command is acme's to look up.
    assert.equal((await fetch(`${gateway.url}/commands/${String(acmeLast.body.commandId)}`, { headers: globex })).status, 404);
    assert.equal((await fetch(`${gateway.url}/commands/${String(acmeLast.body.commandId)}`, { headers: acme })).status, 200);

    // Searches: globex finds nothing of acme's words, and every hit of its own is one of its counters in the log.
    const sync = (await write(globex, uniqueName('sync'), { by: 1 })).body.consistencyToken;
    const searched = await read(globex, '/counters?q=acmesecret', sync);
    assert.deepEqual([searched.status, searched.body.total], [200, 0]);
    // Every globex write so far, the sync counter's included, is in the log.
    const globexIds = new Set((await logOnce((events) => events.filter((event) => event.tenant === 'globex').length >= 3)).filter((event) => event.tenant === 'globex').map((event) => event.aggregateId));
    const everything = await read(globex, '/counters?size=100', sync);
    const hits = everything.body.counters as { counterId: string; label: string }[];
    assert.ok(hits.length >= 2, JSON.stringify(everything.body));
    for (const hit of hits) assert.ok(globexIds.has(hit.counterId), `${hit.counterId} is globex's`);
    assert.ok(hits.every((hit) => hit.label !== 'acmesecret'));
    // A cursor acme received is refused to globex, even for the same search.
    const acmePage = await read(acme, '/counters?size=1');
    const acmeCursor = String(acmePage.body.nextCursor);
    assert.notEqual(acmePage.body.nextCursor, null);
    const stolenCursor = await read(globex, `/counters?size=1&cursor=${encodeURIComponent(acmeCursor)}`);
    assert.deepEqual([stolenCursor.status, stolenCursor.body.field], [400, 'cursor']);
    assert.equal((await read(acme, `/counters?size=1&cursor=${encodeURIComponent(acmeCursor)}`)).status, 200, 'acme may follow its own');

    // Rankings (a projection's shared keys): each tenant's counts only.
    const ranked = (await read(globex, '/rankings/by-value?limit=100', sync)).body.counters as { counterId: string; counted: number }[];
    assert.ok(ranked.length > 0);
    for (const entry of ranked) assert.ok(globexIds.has(entry.counterId), `${entry.counterId} ranked for globex`);
    assert.deepEqual(ranked.find((entry) => entry.counterId === shared), { counterId: shared, counted: 1 });
  });

  it('limits each principal on each route, across instances, with 429 and Retry-After', async () => {
    const limited = await startQueryService({ config: loadConfig({ ...process.env, ...env, STRATA_RATE_LIMIT_PER_MINUTE: '3' }), logger, queries: counterApp.queries, port: 0, grpcPort: 0 });
    try {
      const read = async (path: string, subject: string) => fetch(`${limited.url}${path}`, { headers: bearer(await issuer.sign(current, { sub: subject })) });
      const busy = uniqueName('busy');
      for (let request = 1; request <= 3; request++) assert.equal((await read('/counters/c-1', busy)).status, 404, `request ${String(request)} is let through`);
      const over = await read('/counters/c-1', busy);
      assert.equal(over.status, 429);
      assert.ok(Number(over.headers.get('retry-after')) > 0, 'Retry-After says when');
      const problem = (await over.json()) as { type: string; retryAfter: number };
      assert.equal(problem.type, 'https://strata.dev/problems/rate-limited');
      assert.equal((await read('/counters', busy)).status, 200, 'another route has its own count');
      assert.equal((await read('/counters/c-1', uniqueName('calm'))).status, 404, 'another principal has its own count');
      // HEAD counts with GET, and a request refused as invalid counts as much as one answered.
      const mixed = uniqueName('mixed');
      const headers = bearer(await issuer.sign(current, { sub: mixed }));
      assert.equal((await fetch(`${limited.url}/counters/c-1`, { method: 'HEAD', headers })).status, 404);
      assert.equal((await read('/counters/c-1?no-such-parameter=1', mixed)).status, 400);
      assert.equal((await read('/counters/c-1', mixed)).status, 404);
      assert.equal((await read('/counters/c-1', mixed)).status, 429, 'the fourth request of the route');
      // gRPC is limited as HTTP is, per principal and method.
      const definition = protoLoader.loadSync(queryServiceProto, queryProtoOptions);
      const { QueryService } = (grpc.loadPackageDefinition(definition) as unknown as { strata: { read: { v1: { QueryService: grpc.ServiceClientConstructor } } } }).strata.read.v1;
      const client = new QueryService(`127.0.0.1:${String(limited.grpcPort)}`, grpc.credentials.createInsecure());
      try {
        const metadata = new grpc.Metadata();
        metadata.set('authorization', `Bearer ${await issuer.sign(current, { sub: uniqueName('grpc-busy') })}`);
        const describe = () =>
          new Promise<grpc.ServiceError | null>((resolve) => {
            (client.Describe as (request: object, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null) => void) => void).call(client, {}, metadata, resolve);
          });
        for (let call = 1; call <= 3; call++) assert.equal(await describe(), null, `call ${String(call)} is let through`);
        const exhausted = await describe();
        assert.equal(exhausted?.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.equal((JSON.parse(String(exhausted.metadata.get('problem-json')[0])) as { type: string }).type, 'https://strata.dev/problems/rate-limited');
      } finally {
        client.close();
      }
      // The count is kept in Redis: another instance sees it.
      const twin = await startQueryService({ config: loadConfig({ ...process.env, ...env, STRATA_RATE_LIMIT_PER_MINUTE: '3' }), logger, queries: counterApp.queries, port: 0, grpcPort: 0 });
      try {
        const again = await fetch(`${twin.url}/counters/c-1`, { headers: bearer(await issuer.sign(current, { sub: busy })) });
        assert.equal(again.status, 429);
      } finally {
        await twin.stop();
      }
    } finally {
      await limited.stop();
    }
  });

  it('takes the tenant * only from the service clients named, no tenant with a :, and with STRATA_AUTH_TENANTS=multi no token that names no tenant', async () => {
    await refused(bearer(await issuer.sign(current, { sub: 'svc', tenant: '*', azp: 'not-a-service' })), 401, /only the service clients of STRATA_AUTH_SERVICE_CLIENTS may act for every tenant/);
    await refused(bearer(await issuer.sign(current, { sub: 'svc', tenant: '*' })), 401, /may act for every tenant \(\*\); this token's client is not named/);
    const service = await post('Increment', uniqueName('as-service'), { ...bearer(await issuer.sign(current, { sub: 'svc', tenant: '*', azp: config.saga.clientId })), 'strata-tenant': 'acme' });
    assert.equal(service.status, 200, JSON.stringify(service.body));

    // A tenant with the : of Redis keys could name another tenant's keys (`doc:acme`'s shared key k is acme's document k).
    await refused(bearer(await issuer.sign(current, { sub: 'someone', tenant: 'doc:acme' })), 401, /tenant claim is not a tenant name/);

    const untenanted = `Bearer ${await issuer.sign(current, { sub: 'someone', tenant: undefined })}`;
    assert.equal((await createTokenVerifier(config.auth).verify(untenanted)).tenant, 'default', 'single (the default): the default tenant');
    const multi = loadConfig({ ...process.env, ...env, STRATA_AUTH_TENANTS: 'multi' });
    await assert.rejects(createTokenVerifier(multi.auth).verify(untenanted), /the token names no tenant \(its tenant claim\)/);
  });

  it("lets only an order's customer or staff cancel it (the shop's rule, in its decider), and a token's role * is no role at all", async () => {
    const shopConfig = loadConfig({ ...process.env, ...env, STRATA_TOPIC_PREFIX: uniqueName('test-auth-shop') });
    const shopGateway = await startGateway({ log, config: shopConfig, domain: shop.domain, logger, port: 0, grpcPort: 0 });
    const shopProcessor = await startCommandProcessor({ log, config: shopConfig, domain: shop.domain, logger });
    try {
      const as = async (sub: string, roles: string[]) => bearer(await issuer.sign(current, { sub, realm_access: { roles } }));
      const send = async (type: string, aggregateId: string, data: object, headers: Record<string, string>) => {
        const response = await fetch(`${shopGateway.url}/commands/${type}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ aggregateId, data }) });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      const orderId = uniqueName('order');
      const placed = await send('PlaceOrder', orderId, { customerId: 'alice', lines: [{ sku: 'mug', quantity: 1, unitPriceCents: 1200 }], currency: 'EUR' }, await as('alice', ['customer']));
      assert.equal(placed.status, 200, JSON.stringify(placed.body));
      // Carol passes the gateway's rule (a customer may cancel) and the decider refuses her;
      // mallory's role * is dropped from her token, so she has none.
      for (const [sub, roles, detail] of [['carol', ['customer'], /only the customer of order .* or staff may cancel it/], ['mallory', ['*'], /may not send CancelOrder/]] as const) {
        const refusal = await send('CancelOrder', orderId, { reason: 'not mine' }, await as(sub, [...roles]));
        assert.equal(refusal.status, 403, JSON.stringify(refusal.body));
        assert.equal(refusal.body.type, 'https://strata.dev/problems/forbidden');
        assert.match(String(refusal.body.detail), detail);
      }
      const byClerk = uniqueName('order');
      await send('PlaceOrder', byClerk, { customerId: 'alice', lines: [{ sku: 'mug', quantity: 1, unitPriceCents: 1200 }], currency: 'EUR' }, await as('alice', ['customer']));
      assert.equal((await send('CancelOrder', byClerk, { reason: 'asked by phone' }, await as('bob', ['clerk']))).status, 200, 'staff may');
      assert.equal((await send('CancelOrder', orderId, { reason: 'changed my mind' }, await as('alice', ['customer']))).status, 200, 'her own order');
      const events = (await readWholeTopic(log, writeSideTopics(shopConfig).events, { partitions: 2 })).map((record) => decodeEvent(record)).filter((event) => event.aggregateId === orderId);
      assert.deepEqual(events.map(({ type, actor }) => `${type} by ${actor?.subject ?? '?'}`), ['OrderPlaced by alice', 'OrderCancelled by alice'], 'the refused cancellations appended nothing');
    } finally {
      await shopGateway.stop();
      await shopProcessor.stop();
      await deleteWriteSideTopics(log, shopConfig);
    }
  });

  it("lets a platform service (the saga's command sender) send as itself, with its client credentials", async () => {
    const credentials = createServiceCredentials(config, { id: config.saga.clientId, secret: config.saga.clientSecret });
    const sender = createCommandSender({ address: `127.0.0.1:${String(gateway.grpcPort)}`, timeoutMs: 10_000, credentials, logger });
    const aggregateId = uniqueName('by-service');
    try {
      const outcome = await sender.send({ commandId: uniqueName('service-command'), command: { commandType: 'Increment', aggregateId, data: { by: 2 } } }, 'conversation-1', 'acme');
      assert.deepEqual(outcome, { kind: 'sent' });
    } finally {
      sender.close();
    }
    const event = (await logOnce((events) => events.some((candidate) => candidate.aggregateId === aggregateId))).find((candidate) => candidate.aggregateId === aggregateId);
    assert.equal(event?.actor?.clientId, 'strata-saga');
    assert.equal(event.tenant, 'acme', 'the service acted for the tenant it named');
  });

  it('takes the subject from the claim STRATA_AUTH_SUBJECT_CLAIM names, for a provider whose sub is an opaque id', async () => {
    const verifier = createTokenVerifier(loadConfig({ ...process.env, ...env, STRATA_AUTH_SUBJECT_CLAIM: 'preferred_username' }).auth);
    const opaque = { sub: 'f3c1a2b4-0c55-4d1e-9b7a-5e2f6a1d9c01' };
    const principal = await verifier.verify(`Bearer ${await issuer.sign(current, { ...opaque, preferred_username: 'ann' })}`);
    assert.equal(principal.subject, 'ann');
    await assert.rejects(verifier.verify(`Bearer ${await issuer.sign(current, opaque)}`), /no usable subject \(preferred_username\)/);
  });

  it('answers gRPC callers UNAUTHENTICATED and PERMISSION_DENIED with the same problem documents', async () => {
    const definition = protoLoader.loadSync(commandServiceProto, { keepCase: true, longs: Number, defaults: true, oneofs: true });
    const { CommandService } = (grpc.loadPackageDefinition(definition) as unknown as { strata: { write: { v1: { CommandService: grpc.ServiceClientConstructor } } } }).strata.write.v1;
    const client = new CommandService(`127.0.0.1:${String(gateway.grpcPort)}`, grpc.credentials.createInsecure());
    const submit = (metadata: grpc.Metadata) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        const call = client.Submit as (request: object, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null) => void) => void;
        call.call(client, { command_type: 'Increment', aggregate_id: uniqueName('grpc'), data_json: '{"by":1}' }, metadata, resolve);
      });
    try {
      const missing = await submit(new grpc.Metadata());
      assert.equal(missing?.code, grpc.status.UNAUTHENTICATED);
      assert.equal((JSON.parse(String(missing.metadata.get('problem-json')[0])) as { status: number }).status, 401);
      const asCustomer = new grpc.Metadata();
      asCustomer.set('authorization', `Bearer ${await tokenOf('test-customer', 'acme', ['customer'])}`);
      const denied = await submit(asCustomer);
      assert.equal(denied?.code, grpc.status.PERMISSION_DENIED);
      assert.equal((JSON.parse(String(denied.metadata.get('problem-json')[0])) as { type: string }).type, 'https://strata.dev/problems/forbidden');
    } finally {
      client.close();
    }
  });
});
