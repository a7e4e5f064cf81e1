/**
 * `strata config`: every setting, its variable, default and current value: the
 * platform's, then the loaded app's own.
 */
import { Command } from 'commander';
import { appModulePath } from '../app/load-app.js';
import { loadConfig, redactUrl, settings, settingValues, type Setting } from '../shared/config.js';
import { appOf, appOption } from './app-option.js';
import { action, exitCodes } from './command-runner.js';
import { textTable } from './text-table.js';

function describeSetting(entry: Setting<unknown>): string {
  return entry.fallback ?? `derived: ${entry.derivedFrom ?? '-'}`;
}

export function configCommand(): Command {
  return new Command('config')
    .description('list every configuration variable with its default and current value')
    .option('--json', 'print the list as JSON')
    .addOption(appOption())
    .addHelpText('after', "\nInvalid values stop every command with a message naming the variable. The app's settings\nfollow the platform's when an app is named (--app, or package.json's \"strata\" field).")
    .action(
      action(async (options: { json?: boolean; app?: string }) => {
        loadConfig(); // validates the current environment first
        const app = appModulePath(options.app) === undefined ? undefined : (await appOf(options)).app;
        const declared: [string, Setting<unknown>][] = [
          ...Object.values(settings).map((entry): [string, Setting<unknown>] => ['strata', entry]),
          ...Object.values(app?.settings ?? {}).map((entry): [string, Setting<unknown>] => [app?.name ?? '', entry]),
        ];
        settingValues(app?.settings ?? {}); // and the app's
        const shown = (entry: Setting<unknown>) => {
          const value = process.env[entry.variable];
          // A URL's password (rediss://user:password@host) is hidden as a secret setting is.
          return value === undefined ? null : entry.secret === true ? '(set, hidden)' : redactUrl(value);
        };
        const rows = declared.map(([owner, entry]) => ({
          owner,
          variable: entry.variable,
          default: describeSetting(entry),
          value: shown(entry),
          description: entry.description,
        }));
        process.stdout.write(
          options.json === true
            ? JSON.stringify(rows, null, 2) + '\n'
            : textTable(
                ['VARIABLE', 'OF', 'DEFAULT', 'SET TO', 'DESCRIPTION'],
                rows.map((row) => [row.variable, row.owner, row.default, row.value ?? '-', row.description]),
              ),
        );
        return exitCodes.ok;
      }),
    );
}
