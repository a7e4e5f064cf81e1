/**
 * An open-loop HTTP load generator: requests start on a fixed schedule whatever
 * the answers do, and each latency is measured from its scheduled start, so a
 * stalled server shows as latency instead of hiding as fewer requests
 * (no coordinated omission).
 *
 * The schedule runs in a worker thread of its own: a pause of the generator counts
 * as latency, and the bench's main thread holds what filled the log and the workload's
 * generated streams, whose full garbage collections took up to 290 ms in the middle of
 * a measured load. The worker's heap holds only the requests.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { LatencySummary } from './latency.js';

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
  /** Sent with every request (an Authorization header). */
  headers?: Record<string, string>;
}

/** What the worker (open-loop-worker.ts) is given: every request, made beforehand. */
export interface LoadPlan {
  url: string;
  rate: number;
  headers: Record<string, string>;
  requests: { path: string; body?: string }[];
}

/** What the worker answers. */
export interface LoadOutcome {
  statuses: Record<string, number>;
  elapsedSeconds: number;
  latencyMs: LatencySummary;
}

export async function runOpenLoop(options: LoadOptions): Promise<LoadResult> {
  const total = Math.round(options.rate * options.seconds);
  const plan: LoadPlan = { url: options.url, rate: options.rate, headers: options.headers ?? {}, requests: Array.from({ length: total }, (_, i) => options.request(i)) };
  const worker = new Worker(new URL('./open-loop-worker.js', import.meta.url), { workerData: plan });
  const [outcome] = (await once(worker, 'message')) as [LoadOutcome];
  await worker.terminate();
  return {
    rate: options.rate,
    seconds: options.seconds,
    sent: total,
    statuses: outcome.statuses,
    acceptedPerSecond: Math.round((outcome.statuses[String(options.accepted)] ?? 0) / outcome.elapsedSeconds),
    latencyMs: outcome.latencyMs,
  };
}
