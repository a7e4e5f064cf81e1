/**
 * Task details (Redis): one document per task, read by id. A projection is a pure
 * function of (event, current document); Strata stores what it returns.
 */
import { defineRedisProjection } from 'strata';

export type TaskDetails = { taskId: string; title: string; done: boolean; addedAt: string; completedAt: string | null };

export const taskDetails = defineRedisProjection<TaskDetails>({
  name: 'task-details',
  version: 1,
  description: 'each task, by id (GET /tasks/:taskId)',
  store: 'redis',
  aggregateType: 'Task',
  eventTypes: ['TaskAdded', 'TaskCompleted'],
  project(event, current) {
    if (event.type === 'TaskAdded') {
      const { title, addedAt } = event.data as { title: string; addedAt: string };
      return { document: { taskId: event.aggregateId, title, done: false, addedAt, completedAt: null }, effects: [] };
    }
    if (current === undefined) throw new Error(`${event.type} for task ${event.aggregateId}, which the read model does not hold`);
    const { completedAt } = event.data as { completedAt: string };
    return { document: { ...current, done: true, completedAt }, effects: [] };
  },
});
