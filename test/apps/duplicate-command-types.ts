/** Refused at load: two aggregates claim the command type Increment. */
import { defineAggregate, defineApp } from 'strata';
import { counterCommands, counterDecider, counters } from './counter-app.js';

export default defineApp({
  name: 'duplicate-commands',
  aggregates: [counters, defineAggregate({ type: 'OtherCounter', decider: counterDecider, commands: counterCommands })],
});
