/**
 * `strata events tail | schemas | check`: the event log, decoded, and the event schemas
 * the app must keep reading.
 */
import { Command } from 'commander';
import { lockFileName, lockProblems, lockSummary } from '../app/event-lock.js';
import { OperatorError } from '../shared/errors.js';
import { appOf, appOption } from './app-option.js';
import { action, exitCodes } from './command-runner.js';
import { lockFileOf, readLock } from './event-lock-file.js';
import { addSchemasCommand } from './events-schemas.js';
import { addTailCommand } from './events-tail.js';

export function eventsCommand(): Command {
  const events = new Command('events').description('the event log');
  addTailCommand(events);
  addSchemasCommand(events);
  addCheckCommand(events);
  return events;
}

function addCheckCommand(events: Command): void {
  events
    .command('check')
    .description("fail when the app's event definitions cannot read every version the lock file lists")
    .option('--lock <file>', `the lock file (default: ${lockFileName} beside the project's package.json)`)
    .addOption(appOption())
    .addHelpText(
      'after',
      `
For each event type and version in the lock file: the app still declares it, its schema is
unchanged (a change needs a new version), every version after the first has an upcaster,
and each recorded sample, upcast to today's version, matches today's schema. Each problem
names the aggregate, the type, the version and the field. Run it in CI.

Exit codes: ${String(exitCodes.ok)} every version can be read, ${String(exitCodes.failure)} some cannot (listed), ${String(exitCodes.usage)} usage (no lock file: strata events schemas --write).`,
    )
    .action(action(check));
}

async function check(options: { app?: string; lock?: string }): Promise<number> {
  const { app } = await appOf(options);
  const file = lockFileOf(options.lock);
  const lock = readLock(file);
  if (lock === undefined) throw new OperatorError(`no lock file at ${file}`, 'usage', 'strata events schemas --write makes it');
  const problems = lockProblems(app.domain, lock);
  const { types, versions, samples } = lockSummary(lock);
  const checked = `${String(types)} event types, ${String(versions)} versions, ${String(samples)} sample events in ${file}`;
  if (problems.length === 0) {
    process.stdout.write(`checked ${checked}: the app reads every one\n`);
    return exitCodes.ok;
  }
  process.stdout.write(`checked ${checked}: ${String(problems.length)} cannot be read\n${problems.map((problem) => `  ${problem}\n`).join('')}`);
  return exitCodes.failure;
}
