import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sendBatcher } from '../../write-side/gateway/send-batcher.js';

describe('send batcher', () => {
  it('sends at once when idle, and batches what arrives while a send is in flight', async () => {
    const sent: number[][] = [];
    let release: () => void = () => undefined;
    const submit = sendBatcher<number>(async (items) => {
      sent.push(items);
      if (sent.length === 1) await new Promise<void>((resolve) => { release = resolve; });
      return items.map(() => undefined);
    });
    const first = submit(1);
    const rest = [submit(2), submit(3), submit(4)];
    assert.deepEqual(sent, [[1]]);
    release();
    await Promise.all([first, ...rest]);
    assert.deepEqual(sent, [[1], [2, 3, 4]]);
  });

  it('fails every item of a failed send, and goes on with the next', async () => {
    let calls = 0;
    const submit = sendBatcher<number>((items) => {
      calls += 1;
      return calls === 1 ? Promise.reject(new Error(`broker down for ${items.join(',')}`)) : Promise.resolve(items.map(() => undefined));
    });
    await assert.rejects(submit(1), /broker down for 1/);
    await submit(2);
    assert.equal(calls, 2);
  });

  it('caps a batch', async () => {
    const sizes: number[] = [];
    const submit = sendBatcher<number>((items) => { sizes.push(items.length); return Promise.resolve(items.map(() => undefined)); }, { maxBatch: 2 });
    await Promise.all([1, 2, 3, 4, 5].map(submit));
    assert.deepEqual(sizes, [1, 2, 2]);
  });

  it('keeps up to maxInFlight sends under way, and batches what arrives meanwhile', async () => {
    const sent: number[][] = [];
    const releases: (() => void)[] = [];
    const submit = sendBatcher<number>(async (items) => {
      sent.push(items);
      await new Promise<void>((resolve) => { releases.push(resolve); });
      return items.map(() => undefined);
    }, { maxInFlight: 2 });
    const all = [submit(1), submit(2), submit(3), submit(4)];
    assert.deepEqual(sent, [[1], [2]]);
    releases.shift()?.();
    await all[0];
    assert.deepEqual(sent, [[1], [2], [3, 4]]);
    while (releases.length > 0 || sent.length < 3) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(all);
  });

  it("answers each item with its own result of the batch's send", async () => {
    const submit = sendBatcher<number, number>((items) => Promise.resolve(items.map((item) => item * 10)));
    assert.deepEqual(await Promise.all([1, 2, 3].map(submit)), [10, 20, 30]);
  });
});
