/**
 * The app: everything Strata runs, in one definition. `strata start` finds it through
 * the "strata" field of package.json.
 */
import { defineApp } from 'strata';
import { getTask, searchTasks } from './tasks/queries.js';
import { taskDetails } from './tasks/task-details.js';
import { taskSearch } from './tasks/task-search.js';
import { tasks } from './tasks/task.js';

export default defineApp({
  name: '__APP_NAME__',
  aggregates: [tasks],
  projections: [taskDetails, taskSearch],
  queries: [getTask, searchTasks],
});
