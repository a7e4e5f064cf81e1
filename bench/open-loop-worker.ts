/** The schedule of one open-loop load (open-loop.ts), in a worker thread of its own. */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { summarise } from './latency.js';
import type { LoadOutcome, LoadPlan } from './open-loop.js';

const plan = workerData as LoadPlan;
const agent = new Agent({ keepAlive: true, maxSockets: 512 });
const target = new URL(plan.url);
const latencies: number[] = [];
const statuses: Record<string, number> = {};
const count = (status: string) => { statuses[status] = (statuses[status] ?? 0) + 1; };
const inFlight: Promise<void>[] = [];
const start = performance.now();

const send = ({ path, body }: { path: string; body?: string }, scheduled: number) =>
  new Promise<void>((resolve) => {
    const headers = body === undefined ? plan.headers : { ...plan.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request({ agent, host: target.hostname, port: target.port, path, method: body === undefined ? 'GET' : 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(performance.now() - scheduled);
        count(String(res.statusCode));
        resolve();
      });
    });
    req.on('error', () => {
      count('error');
      resolve();
    });
    req.end(body ?? '');
  });

const total = plan.requests.length;
let next = 0;
while (next < total) {
  const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * plan.rate) + 1);
  for (; next < due; next++) inFlight.push(send(plan.requests[next] ?? { path: '/' }, start + (next / plan.rate) * 1000));
  // A 1 ms tick sends whatever fell due; spinning here would steal a core from the system under test.
  await sleep(1);
}
await Promise.all(inFlight);
const outcome: LoadOutcome = { statuses, elapsedSeconds: (performance.now() - start) / 1000, latencyMs: summarise(latencies) };
agent.destroy();
parentPort?.postMessage(outcome);
