/**
 * `strata start` as a user runs it: every role in processes of its own (the gateway,
 * several command processors, projectors, query services and the saga), authentication
 * on with tokens from the stack's Keycloak; "running" means every role can act: an order
 * placed by a customer for herself the moment it says so is settled by the saga within
 * its tenant; a command accepted over HTTP is read back from every query instance but
 * not by another tenant; a clean stop on SIGTERM. Stopped while still starting
 * (Ctrl-C), or killed, it leaves no service process behind.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { localUserToken } from '../../infra/stack/local-identity.js';
import { streamReporter } from '../../infra/stack/reporter.js';
import { down, selectServers, up } from '../../infra/stack/stack.js';
import { loadConfig } from '../../shared/config.js';
import { packageRoot } from '../../shared/package-files.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { deleteWriteSideTopics, processorGroup } from '../../shared/topics.js';
import { freePortRange, freePorts } from '../../infra/stack/ports.js';
import { logger, uniqueName } from '../support/test-context.js';

describe('strata start', () => {
  it('runs every role with authentication on (its default), ready when it says running (the saga too), tenants apart, and stops them all on SIGTERM', { timeout: 180_000 }, async () => {
    const [httpPort, grpcPort] = await freePorts(2);
    // One range for both: two ranges taken apart may overlap, as none is bound yet.
    const queryPort = await freePortRange(6);
    const queryGrpcPort = queryPort + 3;
    const stackConfig = loadConfig();
    const { started } = await up(stackConfig, selectServers(stackConfig, ['keycloak']), streamReporter(process.stderr));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      STRATA_TOPIC_PREFIX: uniqueName('test-start'),
      STRATA_GATEWAY_PORT: String(httpPort),
      STRATA_GATEWAY_GRPC_PORT: String(grpcPort),
      STRATA_QUERY_PORT: String(queryPort),
      STRATA_QUERY_GRPC_PORT: String(queryGrpcPort),
      STRATA_LOG_LEVEL: 'warn',
      // As a user runs it: STRATA_AUTH unset is on; --no-stack asks for the issuer by name.
      STRATA_AUTH_ISSUERS: stackConfig.auth.issuers.join(','),
    };
    delete env.STRATA_AUTH;
    const config = loadConfig(env);
    assert.equal(config.auth.enabled, true, 'authentication is on by default');
    const log = createLogClient(config, { clientId: 'strata-test', logger });
    const admin = await log.admin();
    const members = async () => (await admin.groupMembers(processorGroup(config))).length;
    const bearerOf = async (username: string, tenant: string, role: string) => ({ authorization: `Bearer ${await localUserToken(config, { username, tenant, roles: [role] })}` });
    const [acme, globex, ann] = [await bearerOf('start-clerk-acme', 'acme', 'clerk'), await bearerOf('start-clerk-globex', 'globex', 'clerk'), await bearerOf('ann', 'acme', 'customer')];
    const post = async (headers: Record<string, string>, type: string, aggregateId: string, data: object) => {
      const response = await fetch(`http://127.0.0.1:${httpPort}/commands/${type}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ aggregateId, data }),
      });
      return { status: response.status, body: (await response.json()) as { consistencyToken: string; version: number } };
    };
    const get = async (port: number, headers: Record<string, string>, path: string, consistencyToken?: string) => {
      const response = await fetch(`http://127.0.0.1:${String(port)}${path}`, { headers: { ...headers, ...(consistencyToken === undefined ? {} : { 'x-consistency-token': consistencyToken }) } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    const platform = spawn(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'start', '--instances', '3', '--no-stack'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    platform.stderr.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes('running') && platform.exitCode === null && Date.now() < deadline) await sleep(20);
      assert.match(output, /• running; press Ctrl-C to stop/, output);
      assert.doesNotMatch(output, /not answering|not ready/, 'a normal start tells its progress, no warnings');

      // The moment it says running: a customer's order for herself (her token's subject is her
      // user name), which the saga (its own client, acting for the event's tenant) must settle.
      const lamp = { name: 'Lamp', description: '', priceCents: 3000, currency: 'EUR', tags: [] };
      const registered = await post(acme, 'RegisterProduct', 'lamp', lamp);
      assert.equal(registered.status, 200, JSON.stringify(registered.body));
      assert.equal((await post(acme, 'RestockProduct', 'lamp', { quantity: 5 })).status, 200);
      const order1 = { customerId: 'ann', lines: [{ sku: 'lamp', quantity: 2, unitPriceCents: 3000 }], currency: 'EUR' };
      const placed = await post(ann, 'PlaceOrder', 'order-1', order1);
      assert.equal(placed.status, 200, JSON.stringify(placed.body));
      assert.equal((await post(ann, 'PlaceOrder', 'order-2', { ...order1, customerId: 'bob' })).status, 403, 'a customer orders for herself only');
      assert.equal(await members(), 3, 'three processors joined the group');
      assert.equal((await admin.groupMembers(`${config.topics.prefix}.saga.fulfilment`)).length, 3, 'three saga processes joined theirs');

      let order = await get(queryPort, acme, '/orders/order-1', placed.body.consistencyToken);
      while (order.body.status === 'placed' && Date.now() < deadline) {
        await sleep(200);
        order = await get(queryPort, acme, '/orders/order-1');
      }
      assert.equal(order.body.status, 'confirmed', JSON.stringify(order.body));
      assert.equal((await get(queryPort, acme, '/products/lamp')).body.reserved, 2);
      const hers = await get(queryPort, ann, '/customers/ann/orders', placed.body.consistencyToken);
      assert.equal(hers.status, 200, JSON.stringify(hers.body));
      assert.deepEqual((hers.body.orders as { orderId: string }[]).map((entry) => entry.orderId), ['order-1']);
      assert.equal((await get(queryPort, await bearerOf('carl', 'acme', 'customer'), '/customers/ann/orders')).status, 403, "another customer's orders are not hers to read");

      assert.equal((await post({}, 'RegisterProduct', 'lamp', lamp)).status, 401, 'no token, no command');
      for (const port of [queryPort, queryPort + 1, queryPort + 2]) {
        const read = await get(port, acme, '/products/lamp', registered.body.consistencyToken);
        assert.equal(read.status, 200, `query instance on port ${String(port)}`);
        assert.equal(read.body.name, 'Lamp');
      }
      assert.equal((await get(queryPort, globex, '/products/lamp')).status, 404, "another tenant's product is not there for globex");

      // Twice, as under `npm start`, where Ctrl-C reaches it from the terminal and from npm:
      // the second must not cut the stop short.
      const exited = once(platform, 'exit');
      platform.kill('SIGTERM');
      await sleep(50);
      platform.kill('SIGTERM');
      const [code, signal] = (await exited) as [number | null, string | null];
      assert.deepEqual([code, signal], [0, null], 'a clean stop, not a death by the second signal');
      // A member that leaves while the group rebalances is dropped at its session timeout.
      const left = Date.now() + config.kafka.sessionTimeoutMs + 10_000;
      while ((await members()) > 0 && Date.now() < left) await sleep(500);
      assert.equal(await members(), 0, 'every processor left the group');
      await assert.rejects(fetch(`http://127.0.0.1:${httpPort}/healthz`), 'the gateway is closed');
      await assert.rejects(fetch(`http://127.0.0.1:${String(queryPort + 2)}/healthz`), 'the query instances are closed');
    } finally {
      if (platform.exitCode === null) platform.kill('SIGKILL');
      await deleteWriteSideTopics(log, config);
      await admin.stop();
      if (started.length > 0) await down(stackConfig, selectServers(stackConfig, started), { purge: false }, streamReporter(process.stderr));
    }
  });

  it('refuses to start in production (--no-stack) with a development default, naming each one', { timeout: 60_000 }, () => {
    const start = (extra: Record<string, string>) => {
      const unset = ['STRATA_ENV', 'STRATA_CURSOR_SECRET', 'STRATA_SAGA_CLIENT_SECRET'].filter((variable) => !(variable in extra));
      const env = Object.fromEntries(Object.entries({ ...process.env, STRATA_LOG_LEVEL: 'silent', ...extra }).filter(([variable]) => !unset.includes(variable)));
      return spawnSync(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'start', '--no-stack'], { env, encoding: 'utf8', timeout: 45_000 });
    };
    const off = start({ STRATA_AUTH: 'off' });
    assert.equal(off.status, 2, off.stderr);
    assert.match(off.stderr, /STRATA_ENV=production, as --no-stack implies: this platform would run with development defaults/);
    assert.match(off.stderr, /^ {2}- STRATA_AUTH=off: /m);
    assert.match(off.stderr, /^ {2}- STRATA_CURSOR_SECRET is the local default key/m);
    assert.doesNotMatch(off.stderr, /\n\s+at /, 'no stack trace');

    const plain = start({ STRATA_AUTH: 'on', STRATA_AUTH_ISSUERS: 'http://10.9.9.9/realms/strata', STRATA_CURSOR_SECRET: 'a-key-of-our-own' });
    assert.equal(plain.status, 2, plain.stderr);
    assert.match(plain.stderr, /^ {2}- STRATA_SAGA_CLIENT_SECRET is the local realm's/m);
    assert.match(plain.stderr, /^ {2}- STRATA_AUTH_ISSUERS names http:\/\/10\.9\.9\.9\/realms\/strata: /m);
    assert.doesNotMatch(plain.stderr, /STRATA_CURSOR_SECRET|STRATA_AUTH=off/);
  });

  it('says which port is taken when a role cannot listen, and exits', { timeout: 60_000 }, async () => {
    const held = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const port = (held.address() as AddressInfo).port;
    const [grpcPort] = await freePorts(1);
    try {
      const env = { ...process.env, STRATA_QUERY_PORT: String(port), STRATA_QUERY_GRPC_PORT: String(grpcPort), STRATA_LOG_LEVEL: 'silent' };
      const started = Date.now();
      const result = spawnSync(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'start', '--role', 'query', '--no-stack'], { env, encoding: 'utf8', timeout: 45_000 });
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`error: 127\\.0\\.0\\.1:${String(port)} is already in use by another process`));
      assert.doesNotMatch(result.stderr, /unexpected error|\n\s+at /, 'no stack trace');
      assert.ok(Date.now() - started < 30_000, 'it does not linger with the clients it had opened');
    } finally {
      held.close();
    }
  });

  /** The pids of `parent`'s child processes (procps `pgrep -P`); none when it has none. */
  const childrenOf = (parent: number): number[] => {
    try {
      return execFileSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`leaves no service process behind when it gets ${signal} while its services are starting`, { timeout: 90_000 }, async () => {
      const [httpPort, grpcPort, queryPort, queryGrpcPort] = await freePorts(4);
      const env = {
        ...process.env,
        STRATA_TOPIC_PREFIX: uniqueName('test-start-stop'),
        STRATA_GATEWAY_PORT: String(httpPort),
        STRATA_GATEWAY_GRPC_PORT: String(grpcPort),
        STRATA_QUERY_PORT: String(queryPort),
        STRATA_QUERY_GRPC_PORT: String(queryGrpcPort),
        STRATA_LOG_LEVEL: 'warn',
      };
      const platform = spawn(process.execPath, [join(packageRoot, 'dist', 'cli', 'main.js'), 'start', '--no-stack'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let output = '';
      platform.stderr.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
      const deadline = Date.now() + 60_000;
      while (!output.includes('service process(es)') && Date.now() < deadline) await sleep(50);
      // Children that have begun to start their services, not yet ready.
      await sleep(2500);
      const children = childrenOf(platform.pid ?? 0);
      assert.ok(children.length >= 5, `every role started as a process: ${children.join(', ')}`);
      platform.kill(signal);
      await once(platform, 'exit');
      const gone = Date.now() + 40_000;
      while (children.some(alive) && Date.now() < gone) await sleep(200);
      assert.deepEqual(children.filter(alive), [], 'every service process stopped');
      const config = loadConfig(env);
      const log = createLogClient(config, { clientId: 'strata-test', logger });
      await deleteWriteSideTopics(log, config).catch(() => undefined);
    });
  }
});
