import { describe, it } from 'node:test';
import { projectionSpec, testEvent } from 'strata/testing';
import { taskSearch } from '../src/tasks/task-search.js';

const added = testEvent('Task', 'task-1', 1, 'TaskAdded', { title: 'Write the tests', addedAt: '2026-01-01T00:00:00.000Z' });
const completed = testEvent('Task', 'task-1', 2, 'TaskCompleted', { completedAt: '2026-01-02T00:00:00.000Z' });

describe('task search projection', () => {
  const spec = projectionSpec(taskSearch);
  it('indexes a new task as open, and a completed one as done', () => {
    spec.given([]).when(added).then({ taskId: 'task-1', title: 'Write the tests', done: false, addedAt: '2026-01-01T00:00:00.000Z' });
    spec.given([added]).when(completed).then({ taskId: 'task-1', title: 'Write the tests', done: true, addedAt: '2026-01-01T00:00:00.000Z' });
  });
});
