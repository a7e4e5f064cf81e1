/**
 * `strata config`: every setting, its variable, default and current value.
 */
import { Command } from 'commander';
import { loadConfig, settings, type Setting } from '../shared/config.js';
import { action, exitCodes } from './command-runner.js';
import { textTable } from './text-table.js';

function describeSetting(entry: Setting<unknown>): string {
  return entry.fallback ?? `derived: ${entry.derivedFrom ?? '-'}`;
}

export function configCommand(): Command {
  return new Command('config')
    .description('list every configuration variable with its default and current value')
    .option('--json', 'print the list as JSON')
    .addHelpText('after', '\nInvalid values stop every command with a message naming the variable.')
    .action(
      action(async (options: { json?: boolean }) => {
        loadConfig(); // validates the current environment first
        const rows = Object.values(settings).map((entry: Setting<unknown>) => ({
          variable: entry.variable,
          default: describeSetting(entry),
          value: entry.secret === true && process.env[entry.variable] !== undefined ? '(set, hidden)' : (process.env[entry.variable] ?? null),
          description: entry.description,
        }));
        process.stdout.write(
          options.json === true
            ? JSON.stringify(rows, null, 2) + '\n'
            : textTable(
                ['VARIABLE', 'DEFAULT', 'SET TO', 'DESCRIPTION'],
                rows.map((row) => [row.variable, row.default, row.value ?? '-', row.description]),
              ),
        );
        return Promise.resolve(exitCodes.ok);
      }),
    );
}
