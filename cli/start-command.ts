/**
 * `strata start`: the whole platform in the foreground. Brings the local stack up
 * (unless --no-stack), runs until Ctrl-C or SIGTERM, then stops what it started:
 * servers that were already up before it are left running.
 *
 * The service roles (gateway, processor, projector, query, saga) join here as
 * they are built; today the platform is the local stack.
 */
import { once } from 'node:events';
import { Command } from 'commander';
import { loadConfig } from '../shared/config.js';
import { streamReporter } from '../infra/stack/reporter.js';
import { down, selectServers, up } from '../infra/stack/stack.js';
import { action, exitCodes } from './command-runner.js';

export function startCommand(): Command {
  return new Command('start')
    .description('run the platform in the foreground until Ctrl-C')
    .option('--no-stack', 'do not start the local stack (Kafka, Elasticsearch, Redis, Zipkin run elsewhere)')
    .addHelpText(
      'after',
      `
Ctrl-C (or SIGTERM) stops everything this command started; stack servers that
were already running before it are left running.

Examples:
  strata start               local stack and every service
  strata start --no-stack    against servers configured with STRATA_* URLs`,
    )
    .action(
      action(async (options: { stack: boolean }) => {
        const config = loadConfig();
        const reporter = streamReporter(process.stderr);
        const started = options.stack ? (await up(config, selectServers([]), reporter)).started : [];
        reporter.step(
          options.stack
            ? 'the local stack is up (see `strata infra status`); press Ctrl-C to stop'
            : 'running against external servers; press Ctrl-C to stop',
        );
        const signal = await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
        reporter.step(`received ${String(signal[0] ?? 'signal')}, shutting down`);
        if (started.length > 0) await down(config, selectServers(started), { purge: false }, reporter);
        return exitCodes.ok;
      }),
    );
}
