/**
 * An open-loop HTTP load generator: requests start on a fixed schedule whatever
 * the answers do, and each latency is measured from its scheduled start, so a
 * stalled server shows as latency instead of hiding as fewer requests
 * (no coordinated omission).
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { summarise, type LatencySummary } from './latency.js';

export interface LoadResult {
  rate: number;
  seconds: number;
  sent: number;
  /** Answers by HTTP status ("error" for connection failures). */
  statuses: Record<string, number>;
  acceptedPerSecond: number;
  latencyMs: LatencySummary;
}

export interface LoadOptions {
  /** The server's base URL. */
  url: string;
  rate: number;
  seconds: number;
  /** The i-th request: a POST with a JSON body, or a GET. */
  request: (i: number) => { path: string; body?: string };
  /** Status counted as accepted. */
  accepted: number;
}

export async function runOpenLoop(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const target = new URL(options.url);
  const total = Math.round(options.rate * options.seconds);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const count = (status: string) => { statuses[status] = (statuses[status] ?? 0) + 1; };
  const inFlight: Promise<void>[] = [];
  const start = performance.now();

  const send = (i: number, scheduled: number) =>
    new Promise<void>((resolve) => {
      const { path, body } = options.request(i);
      const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      const req = request(
        { agent, host: target.hostname, port: target.port, path, method: body === undefined ? 'GET' : 'POST', headers },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - scheduled);
            count(String(res.statusCode));
            resolve();
          });
        },
      );
      req.on('error', () => {
        count('error');
        resolve();
      });
      req.end(body ?? '');
    });

  let next = 0;
  while (next < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) / 1000) * options.rate) + 1);
    for (; next < due; next++) inFlight.push(send(next, start + (next / options.rate) * 1000));
    // A 1 ms tick sends whatever fell due; spinning here would steal a core from the system under test.
    await sleep(1);
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();

  return {
    rate: options.rate,
    seconds: options.seconds,
    sent: total,
    statuses,
    acceptedPerSecond: Math.round((statuses[String(options.accepted)] ?? 0) / elapsed),
    latencyMs: summarise(latencies),
  };
}
