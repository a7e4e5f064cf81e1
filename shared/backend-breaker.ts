/**
 * One circuit breaker (opossum) per backend a process calls: the query service's
 * Redis and Elasticsearch, the saga runtime's command service. Every call goes
 * through its backend's breaker, so that when a backend is down calls fail at once
 * with 503 and `Retry-After` instead of each waiting for its own timeout.
 *
 * Only the backend's own failures count: a client's mistake (any StrataError below
 * 500) or a 4xx answer from Elasticsearch passes through without moving the
 * breaker. A call slower than the backend timeout counts as failed.
 */
import CircuitBreaker from 'opossum';
import { Gauge } from 'prom-client';
import { StrataError, UnavailableError } from './errors.js';
import type { Logger } from './logger.js';

export type BreakerState = 'closed' | 'open' | 'half-open';
const breakerStates: readonly BreakerState[] = ['closed', 'open', 'half-open'];

/** The breakers of this process, read at every scrape. */
const live = new Set<BackendBreaker>();
new Gauge({
  name: 'strata_breaker_state',
  help: 'Circuit breaker state per backend: 1 for the state it is in (closed, open, half-open), 0 for the others',
  labelNames: ['backend', 'state'] as const,
  collect() {
    this.reset();
    for (const breaker of live) {
      const current = breaker.state();
      for (const state of breakerStates) this.set({ backend: breaker.backend, state }, state === current ? 1 : 0);
    }
  },
});

export interface BackendBreaker {
  readonly backend: string;
  run<T>(call: () => Promise<T>): Promise<T>;
  state(): BreakerState;
  shutdown(): void;
}

/** Errors that say nothing about the backend's health. */
function isClientSide(error: unknown): boolean {
  if (error instanceof StrataError) return error.status < 500;
  const status = (error as { meta?: { statusCode?: unknown } }).meta?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

export function createBackendBreaker(options: {
  backend: string;
  timeoutMs: number;
  resetMs: number;
  logger: Logger;
}): BackendBreaker {
  const { backend, resetMs, logger } = options;
  const breaker = new CircuitBreaker((call: () => Promise<unknown>) => call(), {
    timeout: options.timeoutMs,
    resetTimeout: resetMs,
    errorThresholdPercentage: 50,
    // Enough calls in the window before the error rate can open it: one failed read at start-up must not.
    volumeThreshold: 5,
    rollingCountTimeout: 10_000,
    errorFilter: isClientSide,
  });
  let openedAt = 0;
  breaker.on('open', () => {
    openedAt = Date.now();
    logger.warn({ backend, retryInMs: resetMs }, 'circuit breaker opened: failing reads fast');
  });
  breaker.on('halfOpen', () => { logger.info({ backend }, 'circuit breaker half-open: trying the backend again'); });
  breaker.on('close', () => { logger.info({ backend }, 'circuit breaker closed: backend is back'); });

  const retryAfterSeconds = () =>
    breaker.opened ? Math.max(1, Math.ceil((openedAt + resetMs - Date.now()) / 1000)) : Math.max(1, Math.ceil(resetMs / 1000));

  const backendBreaker: BackendBreaker = {
    backend,
    async run<T>(call: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(call)) as T;
      } catch (error) {
        if (isClientSide(error)) throw error;
        const code = (error as { code?: unknown }).code;
        const why =
          code === 'EOPENBREAKER'
            ? `${backend} is unavailable (circuit open)`
            : code === 'ETIMEDOUT'
              ? `${backend} did not answer within ${String(options.timeoutMs)} ms`
              : `${backend} is unavailable`;
        if (code !== 'EOPENBREAKER') logger.warn({ backend, err: error }, 'backend call failed');
        throw new UnavailableError(why, retryAfterSeconds());
      }
    },
    state: () => (breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed'),
    shutdown: () => {
      live.delete(backendBreaker);
      breaker.shutdown();
    },
  };
  live.add(backendBreaker);
  return backendBreaker;
}
