/**
 * Prometheus metrics (prom-client). Each concern defines its metrics where it
 * records them (command-metrics.ts, the projector, the breakers, ...) on
 * prom-client's default registry, so a process exposes the metrics of whatever
 * runs in it, plus the Node runtime's own (`process_*`, `nodejs_*`).
 *
 * The gateway and the query service answer `GET /metrics` on their HTTP port;
 * processes without one (command processor, projector) answer it on a port of
 * their own (`serveMetrics`).
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, register } from 'prom-client';
import type { Logger } from './logger.js';
import { hostPort, type ListenAt } from './network-address.js';

/** Seconds, from a millisecond to half a minute: command, transaction and store latencies. */
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Items per batch, from one to many thousands. */
export const batchSizeBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

let runtimeCollected = false;

/** The scrape: every metric of this process in Prometheus's text format. */
export async function scrape(): Promise<{ contentType: string; body: string }> {
  if (!runtimeCollected) {
    runtimeCollected = true;
    // The event-loop delay is sampled by a timer that wakes the process; at prom-client's
    // default (every 10 ms) that alone cost an idle processor or saga about 1 % of a core.
    collectDefaultMetrics({ eventLoopMonitoringPrecision: 100 });
  }
  return { contentType: register.contentType, body: await register.metrics() };
}

export interface MetricsServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * `/metrics` (and `/healthz`) on a port of its own. When the configured port is
 * taken (a second process of the same role on this host), it takes a free one and
 * says which: a process must not fail to start over its metrics.
 */
export async function serveMetrics(at: ListenAt, logger: Logger): Promise<MetricsServer> {
  await scrape();
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/metrics') {
      scrape().then(
        ({ contentType, body }) => { response.writeHead(200, { 'content-type': contentType }).end(body); },
        (error: unknown) => {
          logger.warn({ err: error }, 'metrics scrape failed');
          response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
    } else if (request.method === 'GET' && path === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
    }
  });
  const listen = async (port: number) => {
    server.listen(port, at.host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => { throw error as Error; })]);
  };
  try {
    await listen(at.port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    await listen(0);
    logger.warn({ configured: at.port, port: (server.address() as AddressInfo).port }, 'metrics port taken; serving metrics on another');
  }
  const bound = (server.address() as AddressInfo).port;
  logger.info({ url: `http://${hostPort(at.host, bound)}/metrics` }, 'metrics listening');
  return {
    port: bound,
    stop: () => new Promise<void>((resolve) => { server.close(() => { resolve(); }); server.closeAllConnections(); }),
  };
}
