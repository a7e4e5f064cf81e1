/**
 * Latency figures as every scenario reports them, from Node's own HDR histogram
 * (perf_hooks): values recorded in microseconds with three significant figures,
 * percentiles as the histogram defines them.
 */
import { createHistogram } from 'node:perf_hooks';

export interface LatencySummary {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarise(latenciesMs: readonly number[]): LatencySummary {
  if (latenciesMs.length === 0) return { p50: 0, p99: 0, p999: 0, max: 0 };
  const histogram = createHistogram({ lowest: 1, highest: 600_000_000, figures: 3 });
  for (const ms of latenciesMs) histogram.record(Math.max(1, Math.round(ms * 1000)));
  const ms = (micros: number) => Math.round(micros / 10) / 100;
  return { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), p999: ms(histogram.percentile(99.9)), max: ms(histogram.max) };
}
