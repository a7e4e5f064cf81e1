/**
 * An open-loop search load on a query service, as its clients see a store's outage:
 * `rate` searches a second for `seconds`, sent whatever the answers. Each answer is
 * failed (no answer, or not 200), incomplete (200 with fewer hits than written) or
 * complete; the complete ones go on a clock (availability.ts) whose longest silence
 * is the longest stretch without a search answering.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ackClock } from './availability.js';

export interface SearchLoadResult {
  sent: number;
  /** Searches with no answer or an error status, and what each got (status or error). */
  failed: { at: number; what: string }[];
  /** Searches answered 200 whose total was not the one expected. */
  incomplete: { at: number; total: unknown }[];
  /** Complete answers in each second of the load. */
  perSecond: number[];
  /** The longest stretch (ms) of the load with no complete answer. */
  longestSilenceMs: number;
  /** The longest stretch (ms) with no complete answer from `since` to the load's end. */
  silenceSince(since: number): number;
  startedAt: number;
}

export interface SearchLoadOptions {
  /** The search to send, a full URL. */
  url: string;
  rate: number;
  seconds: number;
  /** The total every complete answer gives. */
  expectedTotal: number;
  /** Called once, `at` seconds into the load (the fault). */
  fault: { at: number; inject: () => Promise<void> };
  timeoutMs?: number;
}

async function searchOnce(url: string, timeoutMs: number): Promise<{ status: number; total?: unknown } | { error: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json()) as { total?: unknown };
    return { status: response.status, total: body.total };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

export async function runSearchLoad(options: SearchLoadOptions): Promise<SearchLoadResult> {
  const clock = ackClock();
  const failed: SearchLoadResult['failed'] = [];
  const incomplete: SearchLoadResult['incomplete'] = [];
  const inFlight: Promise<void>[] = [];
  const startedAt = Date.now();
  const fault = sleep(options.fault.at * 1000).then(options.fault.inject);
  const total = options.rate * options.seconds;
  for (let n = 0; n < total; n++) {
    const due = startedAt + (n * 1000) / options.rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const at = Date.now() - startedAt;
    inFlight.push(searchOnce(options.url, options.timeoutMs ?? 5000).then((answer) => {
      if ('error' in answer) failed.push({ at, what: answer.error });
      else if (answer.status !== 200) failed.push({ at, what: String(answer.status) });
      else if (answer.total !== options.expectedTotal) incomplete.push({ at, total: answer.total });
      else clock.ack();
    }));
  }
  await Promise.all([...inFlight, fault]);
  const endsAt = startedAt + options.seconds * 1000;
  return {
    sent: total,
    failed,
    incomplete,
    perSecond: clock.perSecond(startedAt, options.seconds),
    longestSilenceMs: clock.longestSilenceMs(startedAt, endsAt),
    silenceSince: (since) => clock.longestSilenceMs(since, endsAt),
    startedAt,
  };
}
