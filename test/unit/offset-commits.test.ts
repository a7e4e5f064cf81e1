import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { throttledOffsetCommits } from '../../shared/kafka/offset-commits.js';
import { logger } from '../support/test-context.js';

type Commit = readonly { topic: string; partition: number; offset: bigint }[];

function committer() {
  const commits: Commit[] = [];
  const offsets = throttledOffsetCommits(
    {
      commit: async (topicPartitions: Commit) => {
        commits.push(topicPartitions);
        return Promise.resolve();
      },
    },
    'events',
    { intervalMs: 1_000, logger },
  );
  return { commits, offsets };
}

describe("a projection's offset commits", () => {
  it('commits once per interval, the latest offset of each partition noted meanwhile', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { commits, offsets } = committer();
      offsets.note(0, 10n);
      offsets.note(1, 5n);
      offsets.note(0, 12n);
      offsets.note(0, 11n);
      mock.timers.tick(999);
      assert.equal(commits.length, 0);
      mock.timers.tick(1);
      await Promise.resolve();
      assert.deepEqual(commits, [
        [
          { topic: 'events', partition: 0, offset: 12n },
          { topic: 'events', partition: 1, offset: 5n },
        ],
      ]);
      mock.timers.tick(5_000);
      assert.equal(commits.length, 1, 'nothing noted, nothing committed');
    } finally {
      mock.timers.reset();
    }
  });

  it('forgets what it noted when the partitions are reassigned, and flushes at once on the way out', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { commits, offsets } = committer();
      offsets.note(0, 10n);
      offsets.forget();
      mock.timers.tick(1_000);
      assert.equal(commits.length, 0);
      offsets.note(1, 7n);
      await offsets.flush();
      assert.deepEqual(commits, [[{ topic: 'events', partition: 1, offset: 7n }]]);
      mock.timers.tick(1_000);
      assert.equal(commits.length, 1);
      offsets.stop();
    } finally {
      mock.timers.reset();
    }
  });

  it('tries a failed commit again with the next round, unless later offsets were noted meanwhile', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const attempts: Commit[] = [];
      let refuse = true;
      const offsets = throttledOffsetCommits(
        {
          commit: async (topicPartitions: Commit) => {
            attempts.push(topicPartitions);
            if (refuse) throw new Error('the group has members');
            return Promise.resolve();
          },
        },
        'events',
        { intervalMs: 1_000, logger },
      );
      offsets.note(0, 10n);
      offsets.note(1, 4n);
      await offsets.flush();
      refuse = false;
      offsets.note(1, 6n);
      mock.timers.tick(1_000);
      await Promise.resolve();
      assert.deepEqual(attempts.at(-1), [
        { topic: 'events', partition: 0, offset: 10n },
        { topic: 'events', partition: 1, offset: 6n },
      ]);
      assert.equal(attempts.length, 2);
      offsets.stop();
    } finally {
      mock.timers.reset();
    }
  });
});
