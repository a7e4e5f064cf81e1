/**
 * Strata's default sampler (when OTEL_TRACES_SAMPLER is not set): a trace whose caller
 * sent a traceparent follows the caller's decision (parent-based); a new trace is
 * recorded while this process has recorded fewer than `perSecond` in the last second,
 * and past that with probability `ratio`.
 *
 * Why a reservoir and not a plain ratio: at a few requests a second every one is traced,
 * so a developer finds the trace of what they just did; at thousands a second the cost
 * stays bounded. One in ten at 2,000 commands/s cost the write path about a tenth of its
 * throughput; one in a hundred no longer showed in the benchmark (docs/observability.md).
 */
import type { Context } from '@opentelemetry/api';
import { ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace';

class ReservoirThenRatioSampler implements Sampler {
  private readonly ratio: TraceIdRatioBasedSampler;
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly perSecond: number,
    ratio: number,
    private readonly now: () => number,
  ) {
    this.ratio = new TraceIdRatioBasedSampler(ratio);
    this.tokens = perSecond;
    this.refilledAt = now();
  }

  // The decision takes only the trace id (as the ratio sampler does), not the span's name or kind.
  shouldSample(context: Context, traceId: string): SamplingResult {
    const now = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    }
    return this.ratio.shouldSample(context, traceId);
  }

  toString(): string {
    return `ReservoirThenRatio{perSecond=${String(this.perSecond)}, ${this.ratio.toString()}}`;
  }
}

export function strataSampler(options: { perSecond: number; ratio: number }, now: () => number = Date.now): Sampler {
  return new ParentBasedSampler({ root: new ReservoirThenRatioSampler(options.perSecond, options.ratio, now) });
}
