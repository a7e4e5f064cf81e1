/**
 * Port checks: a port is free when a server could bind it on the loopback address.
 */
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => { resolve(false); });
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => { resolve(true); });
    });
  });
}

/** Waits until every port is free again; returns the ones still taken at the deadline. */
export async function waitForPortsFree(ports: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const taken: number[] = [];
    for (const port of ports) if (!(await isPortFree(port))) taken.push(port);
    if (taken.length === 0 || Date.now() > deadline) return taken;
    await sleep(200);
  }
}

/** Ports free on the loopback address right now, for servers a test or a benchmark starts. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  while (ports.length < count) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const address = server.address();
    if (address !== null && typeof address === 'object') ports.push(address.port);
  }
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** The first of `count` consecutive ports free right now (for servers whose instance i listens on base + i). */
export async function freePortRange(count: number): Promise<number> {
  for (;;) {
    const [base = 0] = await freePorts(1);
    if (base + count > 65_535) continue;
    const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => isPortFree(base + i + 1)));
    if (rest.every(Boolean)) return base;
  }
}
