#!/usr/bin/env node
/**
 * `strata`: the one executable of the platform. A process that runs one service
 * role starts its telemetry first, and only then loads the rest of Strata (and
 * with it kafkajs, ioredis, fastify and grpc), so that they are instrumented.
 */
import { singleRole, startTelemetry } from '../shared/telemetry.js';

const role = singleRole(process.argv);
if (role !== undefined) startTelemetry(role);
await import('./program.js');
