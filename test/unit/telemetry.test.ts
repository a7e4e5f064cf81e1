import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { SamplingDecision, type Sampler } from '@opentelemetry/sdk-trace';
import { singleRole } from '../../shared/telemetry.js';
import { isSampled, newTraceparent, validTraceparent } from '../../shared/trace-context.js';
import { strataSampler } from '../../shared/trace-sampler.js';

describe('telemetry bootstrap', () => {
  const role = (...args: string[]) => singleRole(['node', 'strata', ...args]);

  it('starts for a process that runs exactly one role, once, and names the service after it', () => {
    assert.equal(role('start', '--role', 'gateway', '--no-stack'), 'gateway');
    assert.equal(role('start', '--no-stack', '--role', 'projector', '--projection', 'order-details'), 'projector');
    assert.equal(role('start', '--role', 'query', '--instances', '1'), 'query');
  });

  it('does not start for a supervisor of several roles or instances, or for other commands', () => {
    assert.equal(role('start'), undefined);
    assert.equal(role('start', '--role', 'gateway', 'processor'), undefined);
    assert.equal(role('start', '--role', 'processor', '--instances', '3'), undefined);
    assert.equal(role('start', '--role', 'gateway', '--help'), undefined);
    assert.equal(role('infra', 'up'), undefined);
  });
});

describe('trace context', () => {
  it("reads the sampled bit of a traceparent's flags, and makes new ones either way", () => {
    assert.equal(isSampled('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), true);
    assert.equal(isSampled('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03'), true);
    assert.equal(isSampled('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'), false);
    assert.equal(isSampled(undefined), false);
    assert.equal(isSampled(newTraceparent()), true);
    assert.equal(isSampled(newTraceparent(false)), false);
    assert.ok(validTraceparent(newTraceparent(false)));
  });
});


describe('default sampler', () => {
  const traceId = (n: number) => n.toString(16).padStart(32, '0');
  const decide = (sampler: Sampler, parent = ROOT_CONTEXT, n = 1) => sampler.shouldSample(parent, traceId(n), 'span', SpanKind.SERVER, {}, []).decision;

  it('records every new trace up to its rate per second, then only its ratio of them, and refills with time', () => {
    let now = 1_000_000;
    const sampler = strataSampler({ perSecond: 5, ratio: 0 }, () => now);
    const first = Array.from({ length: 8 }, (_, i) => decide(sampler, ROOT_CONTEXT, i + 1));
    assert.deepEqual(first.filter((decision) => decision === SamplingDecision.RECORD_AND_SAMPLED).length, 5);
    assert.equal(first.at(-1), SamplingDecision.NOT_RECORD);
    now += 200; // a fifth of a second: one more
    assert.equal(decide(sampler), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide(sampler), SamplingDecision.NOT_RECORD);
    const always = strataSampler({ perSecond: 0, ratio: 1 }, () => now);
    assert.equal(decide(always), SamplingDecision.RECORD_AND_SAMPLED);
  });

  it("follows the caller's decision for a trace that has a parent, whatever the reservoir holds", () => {
    const sampler = strataSampler({ perSecond: 5, ratio: 1 }, () => 0);
    const parent = (flags: number) => trace.setSpanContext(ROOT_CONTEXT, { traceId: traceId(7), spanId: '00000000000000a1', traceFlags: flags, isRemote: true });
    assert.equal(decide(sampler, parent(TraceFlags.NONE)), SamplingDecision.NOT_RECORD);
    assert.equal(decide(sampler, parent(TraceFlags.SAMPLED)), SamplingDecision.RECORD_AND_SAMPLED);
  });
});
