/**
 * The Redis server of the stack is real: a Lua script loaded once and run by its
 * SHA executes atomically, and version comparison inside it refuses regressions.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createRedis } from '../../shared/redis-client.js';
import { config, uniqueName } from '../support/test-context.js';

// Writes the document only if its version is newer than the stored one.
const setIfNewer = `
local stored = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local incoming = tonumber(ARGV[1])
if incoming <= stored then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'body', ARGV[2])
return 1`;

// A read-modify-write that would lose updates if it were not atomic.
const appendCounter = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0') + 1
redis.call('SET', KEYS[1], n)
redis.call('RPUSH', KEYS[2], n)
return n`;

describe('redis', () => {
  const redis = createRedis(config);
  const prefix = uniqueName('test');

  after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('runs a loaded script by its SHA and refuses an older version', async () => {
    const sha = (await redis.script('LOAD', setIfNewer)) as string;
    const key = `${prefix}:product:mug`;
    assert.equal(await redis.evalsha(sha, 1, key, '2', 'v2'), 1);
    assert.equal(await redis.evalsha(sha, 1, key, '1', 'v1-late'), 0);
    assert.equal(await redis.evalsha(sha, 1, key, '2', 'v2-again'), 0);
    assert.equal(await redis.evalsha(sha, 1, key, '3', 'v3'), 1);
    assert.deepEqual(await redis.hgetall(key), { version: '3', body: 'v3' });
  });

  it('runs the script atomically under concurrent callers', async () => {
    const sha = (await redis.script('LOAD', appendCounter)) as string;
    const counter = `${prefix}:counter`;
    const log = `${prefix}:log`;
    const clients = Array.from({ length: 8 }, () => createRedis(config));
    try {
      await Promise.all(
        clients.map(async (client) => {
          for (let i = 0; i < 50; i++) await client.evalsha(sha, 2, counter, log);
        }),
      );
    } finally {
      await Promise.all(clients.map((client) => client.quit()));
    }
    assert.equal(await redis.get(counter), '400');
    const values = (await redis.lrange(log, 0, -1)).map(Number);
    assert.deepEqual(values, Array.from({ length: 400 }, (_, i) => i + 1), 'no two callers saw the same count');
  });
});
