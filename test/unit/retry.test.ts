import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { retry, type RetryOptions } from '../../shared/retry.js';

/** Work that fails `failures` times (the nth with "failure n"), then answers "done"; counts its tries. */
function failing(failures: number) {
  const work = {
    tries: 0,
    run: () => {
      work.tries++;
      return work.tries <= failures ? Promise.reject(new Error(`failure ${String(work.tries)}`)) : Promise.resolve('done');
    },
  };
  return work;
}

/** The retry's reports, in order: each failure's attempt and wait. */
function reports() {
  const seen: { attempt: number; delayMs: number }[] = [];
  const onFailure: RetryOptions['onFailure'] = (_error, attempt, delayMs) => {
    seen.push({ attempt, delayMs });
  };
  return { seen, onFailure };
}

describe('retry', () => {
  it('tries again until the work succeeds, telling each failure with its attempt and wait', async () => {
    const work = failing(2);
    const { seen, onFailure } = reports();
    assert.equal(await retry(work.run, { firstDelayMs: 1, maxDelayMs: 10, jitter: false, onFailure }), 'done');
    assert.equal(work.tries, 3);
    assert.deepEqual(seen, [{ attempt: 1, delayMs: 1 }, { attempt: 2, delayMs: 2 }]);
  });

  it('doubles the wait from the first and keeps it at the cap', async () => {
    const { seen, onFailure } = reports();
    await retry(failing(6).run, { firstDelayMs: 1, maxDelayMs: 5, jitter: false, onFailure });
    assert.deepEqual(seen.map(({ delayMs }) => delayMs), [1, 2, 4, 5, 5, 5]);
  });

  it('draws each wait between half the backoff and all of it', async () => {
    const random = mock.method(Math, 'random', () => 0);
    try {
      const lowest = reports();
      await retry(failing(4).run, { firstDelayMs: 2, maxDelayMs: 8, onFailure: lowest.onFailure });
      assert.deepEqual(lowest.seen.map(({ delayMs }) => delayMs), [1, 2, 4, 4]);
      random.mock.mockImplementation(() => 0.999_999);
      const highest = reports();
      await retry(failing(4).run, { firstDelayMs: 2, maxDelayMs: 8, onFailure: highest.onFailure });
      assert.deepEqual(highest.seen.map(({ delayMs }) => delayMs), [2, 4, 8, 8]);
    } finally {
      random.mock.restore();
    }
    const drawn = reports();
    await retry(failing(40).run, { firstDelayMs: 8, maxDelayMs: 8, onFailure: drawn.onFailure });
    for (const { delayMs } of drawn.seen) assert.ok(delayMs >= 4 && delayMs <= 8, `${String(delayMs)} ms is outside 4 to 8 ms`);
    assert.ok(new Set(drawn.seen.map(({ delayMs }) => delayMs)).size > 1, 'every wait was the same: no jitter');
  });

  it('gives up after `attempts` tries, with the last error', async () => {
    const work = failing(10);
    const { seen, onFailure } = reports();
    await assert.rejects(retry(work.run, { firstDelayMs: 1, maxDelayMs: 1, attempts: 3, onFailure }), /^Error: failure 3$/);
    assert.equal(work.tries, 3);
    assert.equal(seen.length, 2);
  });

  it('throws at once an error that `retryable` refuses, and retries the ones it accepts', async () => {
    const refused = failing(10);
    const { seen, onFailure } = reports();
    await assert.rejects(retry(refused.run, { firstDelayMs: 1, maxDelayMs: 1, retryable: () => false, onFailure }), /^Error: failure 1$/);
    assert.equal(refused.tries, 1);
    assert.equal(seen.length, 0);

    const work = failing(10);
    await assert.rejects(
      retry(work.run, { firstDelayMs: 1, maxDelayMs: 1, retryable: (error) => !(error instanceof Error && error.message === 'failure 3') }),
      /^Error: failure 3$/,
    );
    assert.equal(work.tries, 3);
  });

  it('runs `afterWait` after each wait, before the next try', async () => {
    const steps: string[] = [];
    const work = failing(2);
    await retry(
      () => {
        steps.push('try');
        return work.run();
      },
      {
        firstDelayMs: 1,
        maxDelayMs: 1,
        onFailure: () => steps.push('failure'),
        afterWait: () => {
          steps.push('after wait');
          return Promise.resolve();
        },
      },
    );
    assert.deepEqual(steps, ['try', 'failure', 'after wait', 'try', 'failure', 'after wait', 'try']);
  });
});

describe('retry, stopped by its signal', () => {
  it('ends a wait at once, with the reason, running nothing more', async () => {
    const stop = new AbortController();
    const work = failing(Infinity);
    let afterWait = 0;
    const started = Date.now();
    const retried = retry(work.run, {
      firstDelayMs: 60_000,
      maxDelayMs: 60_000,
      signal: stop.signal,
      onFailure: () => {
        setTimeout(() => {
          stop.abort(new Error('released'));
        }, 10);
      },
      afterWait: () => {
        afterWait++;
        return Promise.resolve();
      },
    });
    await assert.rejects(retried, /^Error: released$/);
    assert.ok(Date.now() - started < 5_000, 'the wait was not cut short');
    assert.equal(work.tries, 1);
    assert.equal(afterWait, 0);
  });

  it('does not try again, nor report, a failure that comes after the abort', async () => {
    const stop = new AbortController();
    const { seen, onFailure } = reports();
    let tries = 0;
    const work = () => {
      tries++;
      stop.abort(new Error('released'));
      return Promise.reject(new Error('failed meanwhile'));
    };
    await assert.rejects(retry(work, { firstDelayMs: 1, maxDelayMs: 1, signal: stop.signal, onFailure }), /^Error: released$/);
    assert.equal(tries, 1);
    assert.equal(seen.length, 0);
  });

  it('tries nothing when aborted before it starts', async () => {
    const work = failing(0);
    await assert.rejects(retry(work.run, { firstDelayMs: 1, maxDelayMs: 1, signal: AbortSignal.abort(new Error('gone')) }), /^Error: gone$/);
    assert.equal(work.tries, 0);
  });

  it('lets a success that comes after the abort stand', async () => {
    const stop = new AbortController();
    const work = () => {
      stop.abort();
      return Promise.resolve('done');
    };
    assert.equal(await retry(work, { firstDelayMs: 1, maxDelayMs: 1, signal: stop.signal }), 'done');
  });
});
