import { describe, it } from 'node:test';
import { projectionSpec, testEvent } from 'strata/testing';
import { taskDetails } from '../src/tasks/task-details.js';

const added = testEvent('Task', 'task-1', 1, 'TaskAdded', { title: 'Write the tests', addedAt: '2026-01-01T00:00:00.000Z' });
const completed = testEvent('Task', 'task-1', 2, 'TaskCompleted', { completedAt: '2026-01-02T00:00:00.000Z' });

describe('task details projection', () => {
  const spec = projectionSpec(taskDetails);
  it('TaskAdded creates the task, open', () => {
    spec.given([]).when(added).then({ taskId: 'task-1', title: 'Write the tests', done: false, addedAt: '2026-01-01T00:00:00.000Z', completedAt: null });
  });
  it('TaskCompleted marks it done', () => {
    spec.given([added]).when(completed).then({ taskId: 'task-1', title: 'Write the tests', done: true, addedAt: '2026-01-01T00:00:00.000Z', completedAt: '2026-01-02T00:00:00.000Z' });
  });
  it('refuses a completion for a task it never saw (a dead letter)', () => {
    spec.given([]).when(completed).thenThrows(/does not hold/);
  });
});
