/**
 * How every command ends: output on stdout, errors on stderr with what to do
 * about them, and documented exit codes.
 */
import { AppDefinitionError, ConfigError, OperatorError, StackError, StrataError } from '../shared/errors.js';

export const exitCodes = {
  ok: 0,
  /** The command failed (a server did not start, a port is taken, ...). */
  failure: 1,
  /** The command line or the configuration is wrong. */
  usage: 2,
  /** `status`: one or more servers are not running. */
  notRunning: 3,
  /** Refused because of what is running or live: a replay already running, dropping the live version. */
  conflict: 4,
  /** Stopped by Ctrl-C or SIGTERM before it finished (a replay resumes when run again). */
  interrupted: 130,
} as const;

/** Data output (`--json`): one document on stdout. */
export const printJson = (value: unknown) => {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
};

/** Runs a command's action; turns what it throws into a message and an exit code. */
export function action<A extends unknown[]>(
  run: (...args: A) => Promise<number | undefined>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = (await run(...args)) ?? exitCodes.ok;
    } catch (error) {
      process.exitCode = report(error);
      // A command that failed halfway (a role whose port was taken) may hold clients it had
      // opened: the process ends anyway, once its message is out.
      setTimeout(() => process.exit(), 2_000).unref();
    }
  };
}

function report(error: unknown): number {
  if (error instanceof ConfigError || error instanceof AppDefinitionError) {
    process.stderr.write(`error: ${error.message}\n`);
    return exitCodes.usage;
  }
  if (error instanceof OperatorError) {
    process.stderr.write(`error: ${error.message}\n`);
    if (error.hint !== undefined) process.stderr.write(`hint: ${error.hint}\n`);
    return exitCodes[error.kind];
  }
  if (error instanceof StackError) {
    process.stderr.write(`error: ${error.message}\n`);
    if (error.hint !== undefined) process.stderr.write(`hint: ${error.hint}\n`);
    return exitCodes.failure;
  }
  if (error instanceof StrataError) {
    process.stderr.write(`error: ${error.message}\n`);
    return exitCodes.failure;
  }
  const { code, address, port } = error as { code?: unknown; address?: unknown; port?: unknown };
  if (code === 'EADDRINUSE') {
    process.stderr.write(`error: ${String(address)}:${String(port)} is already in use by another process\n`);
    process.stderr.write('hint: stop it, or move this service to a free port (`strata config` lists the port settings)\n');
    return exitCodes.failure;
  }
  process.stderr.write(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return exitCodes.failure;
}
