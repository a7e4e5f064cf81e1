/**
 * The Task aggregate: a decider (decide, evolve, initialState) and the schema of
 * each command's data. Pure: no I/O, no clock; what a decision needs from the world
 * (the time, the aggregate's id) comes in the context.
 */
import { BusinessRuleError, NotFoundError, Type, defineAggregate, type Decider, type DomainEvent, type Static } from 'strata';

export const taskCommands = {
  AddTask: Type.Object({ title: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
  CompleteTask: Type.Object({}, { additionalProperties: false }),
};

type Commands = typeof taskCommands;
export type TaskCommand = { [K in keyof Commands]: { type: K; data: Static<Commands[K]> } }[keyof Commands];
export type TaskEvent = DomainEvent<'TaskAdded', { title: string; addedAt: string }> | DomainEvent<'TaskCompleted', { completedAt: string }>;
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
  // Who may send each command when STRATA_AUTH=on (roles from the token); a command not listed: nobody.
  access: {
    AddTask: { roles: ['clerk', 'admin'] },
    CompleteTask: { roles: ['clerk', 'admin'] },
  },
});
