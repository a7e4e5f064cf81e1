#!/usr/bin/env node
/**
 * `strata`: the one executable of the platform. A process that runs one service
 * role starts its telemetry first, and only then loads the rest of Strata (and
 * with it kafkajs, ioredis, fastify and grpc), so that they are instrumented.
 */
import { ConfigError } from '../shared/errors.js';
import { singleRole, startTelemetry } from '../shared/telemetry.js';

const role = singleRole(process.argv);
try {
  if (role !== undefined) startTelemetry(role);
} catch (error) {
  // Telemetry reads the configuration before any command runs: a bad setting is told as every command tells it.
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`error: ${error.message}\n`);
  process.exit(2);
}
await import('./program.js');
