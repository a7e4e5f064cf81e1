/**
 * The Task aggregate: a decider (decide, evolve, initialState), the schema of each
 * command's data and of each event type's versions. Pure: no I/O, no clock; what a
 * decision needs from the world (the time, the aggregate's id) comes in the context.
 */
import { BusinessRuleError, NotFoundError, Type, defineAggregate, eventType, type Decider, type DomainEvent, type EventData, type Static } from 'strata';

export const taskCommands = {
  AddTask: Type.Object({ title: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
  CompleteTask: Type.Object({}, { additionalProperties: false }),
};

type Commands = typeof taskCommands;
export type TaskCommand = { [K in keyof Commands]: { type: K; data: Static<Commands[K]> } }[keyof Commands];
/**
 * Each event type's schema, one per version: the log keeps events forever, so a change
 * is a new version with an upcaster (`.upcastTo(v2, (v1) => …)`), recorded in
 * events.lock.json by `npx strata events schemas --write` and checked by the tests.
 */
export const taskEvents = {
  TaskAdded: eventType(Type.Object({ title: Type.String({ minLength: 1, maxLength: 200 }), addedAt: Type.String() }, { additionalProperties: false })),
  TaskCompleted: eventType(Type.Object({ completedAt: Type.String() }, { additionalProperties: false })),
};
type TaskEvents = typeof taskEvents;
export type TaskEvent = { [T in keyof TaskEvents]: DomainEvent<T, EventData<TaskEvents[T]>> }[keyof TaskEvents];
export type TaskState = { status: 'none' | 'open' | 'done' };

export const taskDecider: Decider<TaskState, TaskCommand, TaskEvent> = {
  initialState: () => ({ status: 'none' }),
  evolve: (_state, event) => ({ status: event.type === 'TaskAdded' ? 'open' : 'done' }),
  decide(command, state, { now }) {
    switch (command.type) {
      case 'AddTask':
        if (state.status !== 'none') throw new BusinessRuleError('the task exists already', 'task-exists');
        return [{ type: 'TaskAdded', data: { title: command.data.title, addedAt: now.toISOString() } }];
      case 'CompleteTask':
        if (state.status === 'none') throw new NotFoundError('no such task');
        if (state.status === 'done') throw new BusinessRuleError('the task is done already', 'task-done');
        return [{ type: 'TaskCompleted', data: { completedAt: now.toISOString() } }];
    }
  },
};

export const tasks = defineAggregate({
  type: 'Task',
  decider: taskDecider,
  commands: taskCommands,
  events: taskEvents,
  // Who may send each command when STRATA_AUTH=on (roles from the token); a command not listed: nobody.
  access: {
    AddTask: { roles: ['clerk', 'admin'] },
    CompleteTask: { roles: ['clerk', 'admin'] },
  },
});
