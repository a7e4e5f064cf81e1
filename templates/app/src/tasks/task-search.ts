/**
 * Task search (Elasticsearch): tasks by words of their title, open or done.
 */
import { defineElasticsearchProjection } from 'strata';

export type TaskSearchDocument = { taskId: string; title: string; done: boolean; addedAt: string };

export const taskSearch = defineElasticsearchProjection<TaskSearchDocument>({
  name: 'task-search',
  version: 1,
  description: 'tasks by title words, open or done (GET /tasks)',
  store: 'elasticsearch',
  aggregateType: 'Task',
  eventTypes: ['TaskAdded', 'TaskCompleted'],
  project(event, current) {
    if (event.type === 'TaskAdded') {
      const { title, addedAt } = event.data as { title: string; addedAt: string };
      return { taskId: event.aggregateId, title, done: false, addedAt };
    }
    if (current === undefined) throw new Error(`${event.type} for task ${event.aggregateId}, which the index does not hold`);
    return { ...current, done: true };
  },
  mappings: {
    dynamic: 'strict',
    properties: {
      taskId: { type: 'keyword' },
      title: { type: 'text', analyzer: 'standard' },
      done: { type: 'boolean' },
      addedAt: { type: 'date' },
    },
  },
});
