/**
 * Runs `work` with the local stack up: servers already running are used as they
 * are, and only the servers started here are stopped afterwards.
 */
import { loadConfig } from '../../shared/config.js';
import { streamReporter } from './reporter.js';
import { down, selectServers, stackServers, up } from './stack.js';

export async function withStack<T>(work: () => Promise<T>): Promise<T> {
  const config = loadConfig();
  const reporter = streamReporter(process.stderr);
  const { started } = await up(config, stackServers(config), reporter);
  try {
    return await work();
  } finally {
    if (started.length > 0) {
      reporter.step(`stopping the servers this run started: ${started.join(', ')}`);
      await down(config, selectServers(config, started), { purge: false }, reporter);
    }
  }
}
