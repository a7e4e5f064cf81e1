/**
 * The read API of tasks: each query is a route, its parameters and answer (TypeBox:
 * validation, OpenAPI and types from one definition), the projections it reads and
 * a function over them. Strata serves it over HTTP and gRPC.
 */
import { NotFoundError, Type, defineQuery } from 'strata';
import { taskDetails, type TaskDetails } from './task-details.js';
import { taskSearch, type TaskSearchDocument } from './task-search.js';

const closed = { additionalProperties: false } as const;
const version = Type.Integer({ description: 'the version of the task this answer reflects' });

export const getTask = defineQuery({
  name: 'getTask',
  access: { roles: ['customer', 'clerk', 'admin'] },
  route: '/tasks/:taskId',
  summary: 'A task by id',
  params: Type.Object({ taskId: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' }) }, closed),
  answer: Type.Object({ taskId: Type.String(), title: Type.String(), done: Type.Boolean(), addedAt: Type.String(), completedAt: Type.Union([Type.String(), Type.Null()]), version }),
  reads: [taskDetails],
  async run({ taskId }, read) {
    const task = await read.document<TaskDetails>(taskDetails, taskId);
    if (task === undefined) throw new NotFoundError(`no task ${taskId}`);
    return task;
  },
});

export const searchTasks = defineQuery({
  name: 'searchTasks',
  access: { roles: ['customer', 'clerk', 'admin'] },
  route: '/tasks',
  summary: 'Tasks by words of their title, newest first',
  params: Type.Object(
    {
      q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'words of the title' })),
      done: Type.Optional(Type.Boolean()),
      size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
      cursor: Type.Optional(Type.String({ maxLength: 512, description: 'nextCursor of the previous page' })),
    },
    closed,
  ),
  answer: Type.Object({
    tasks: Type.Array(Type.Object({ taskId: Type.String(), title: Type.String(), done: Type.Boolean(), addedAt: Type.String(), version })),
    total: Type.Integer(),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
  }),
  reads: [taskSearch],
  async run({ q, done, size, cursor }, read) {
    const page = await read.search<TaskSearchDocument>(taskSearch, {
      filters: done === undefined ? [] : [{ term: { done } }],
      text: q === undefined ? undefined : { query: q, field: 'title' },
      sort: [{ addedAt: 'desc' }, { taskId: 'asc' }],
      size: size ?? 20,
      cursor,
    });
    return { tasks: page.hits, total: page.total, nextCursor: page.nextCursor };
  },
});
