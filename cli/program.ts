/**
 * The `strata` commands (commander); cli/main.ts loads this once telemetry runs.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { packageFile } from '../shared/package-files.js';
import { exitCodes } from './command-runner.js';
import { aggregateCommand } from './aggregate-command.js';
import { configCommand } from './config-command.js';
import { tokenCommand } from './token-command.js';
import { dlqCommand } from './dlq-command.js';
import { doctorCommand } from './doctor-command.js';
import { eventsCommand } from './events-command.js';
import { infraCommand } from './infra-command.js';
import { newCommand } from './new-command.js';
import { processorsCommand } from './processors-command.js';
import { projectionsCommand } from './projections-command.js';
import { startCommand } from './start-command.js';

const { version } = JSON.parse(readFileSync(packageFile('manifest'), 'utf8')) as { version: string };

const program = new Command('strata')
  .description('Strata: event sourcing on Kafka, with read models in Elasticsearch and Redis')
  .version(version)
  // Options before a command are strata's own (--version); after it, the command's (`drop --version 2`).
  .enablePositionalOptions()
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Exit codes: ${exitCodes.ok} ok, ${exitCodes.failure} failure, ${exitCodes.usage} usage or configuration error, ${exitCodes.notRunning} (status) not all running,\n${exitCodes.conflict} refused by what is running (a replay already running, dropping the live version), ${exitCodes.interrupted} interrupted (Ctrl-C).`,
  )
  .addCommand(newCommand())
  .addCommand(startCommand())
  .addCommand(infraCommand())
  .addCommand(processorsCommand())
  .addCommand(projectionsCommand())
  .addCommand(dlqCommand())
  .addCommand(doctorCommand())
  .addCommand(eventsCommand())
  .addCommand(aggregateCommand())
  .addCommand(configCommand())
  .addCommand(tokenCommand());

/** Help and version requests exit 0; anything else commander rejects is a usage error. */
function usageExitCodes(command: Command): void {
  command.exitOverride((error) => process.exit(error.exitCode === 0 ? exitCodes.ok : exitCodes.usage));
  command.commands.forEach(usageExitCodes);
}
usageExitCodes(program);

await program.parseAsync(process.argv);
