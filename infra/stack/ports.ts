/**
 * Port checks: a port is free when a server could bind it on the loopback address.
 */
import { createServer } from 'node:net';
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
