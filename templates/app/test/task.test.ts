import { describe, it } from 'node:test';
import { BusinessRuleError, NotFoundError } from 'strata';
import { deciderSpec, defaultTestContext } from 'strata/testing';
import { taskDecider, type TaskCommand, type TaskEvent } from '../src/tasks/task.js';

const at = defaultTestContext.now.toISOString();
const added: TaskEvent = { type: 'TaskAdded', data: { title: 'Write the tests', addedAt: at } };
const complete: TaskCommand = { type: 'CompleteTask', data: {} };

describe('Task decider', () => {
  const spec = deciderSpec(taskDecider);
  it('adds a task once', () => {
    spec.given([]).when({ type: 'AddTask', data: { title: 'Write the tests' } }).then([added]);
    spec.given([added]).when({ type: 'AddTask', data: { title: 'Again' } }).thenThrows(BusinessRuleError, /exists/);
  });
  it('completes an open task, once', () => {
    spec.given([added]).when(complete).then([{ type: 'TaskCompleted', data: { completedAt: at } }]);
    spec.given([added, { type: 'TaskCompleted', data: { completedAt: at } }]).when(complete).thenThrows(BusinessRuleError, /done already/);
    spec.given([]).when(complete).thenThrows(NotFoundError, /no such task/);
  });
});
