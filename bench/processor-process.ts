/**
 * A command processor as an operator runs it, `strata start --role processor
 * --no-stack --app <module>`, in an OS process of its own that a test can signal
 * (SIGKILL, SIGSTOP), with its log lines kept for assertions. The app is the neutral
 * test domain (test/apps/counter-app.ts) unless another module is given. Any other
 * server a test runs as a process of its own is watched the same way (spawnWatched).
 * The rebuild scenario (rebuild-scenario.ts) restarts processors with it too; the
 * bench may not reach into test/support/, so the tests take it from here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../shared/package-files.js';

/** The compiled `strata` executable. */
export const strataCli = join(packageRoot, 'dist', 'cli', 'main.js');
/** The compiled counter app, in dist/test/apps/. */
export const counterAppModule = fileURLToPath(new URL('../test/apps/counter-app.js', import.meta.url));

export interface ProcessorProcess {
  child: ChildProcess;
  /** Output chunks as they came (stdout and stderr). */
  log: string[];
  /** Whole JSON log lines with `msg` equal to `message`, parsed. */
  lines(message: string): Record<string, unknown>[];
  /** Resolves once a log line contains `text`; rejects after `timeoutMs`. */
  waitFor(text: string, timeoutMs: number): Promise<void>;
  /** Resolves once the process has exited (at once if it has). */
  exited(): Promise<void>;
}

/** A program and its arguments. */
export type CommandLine = readonly [string, ...string[]];

/** `strata start --role processor --no-stack --app <app>`, on this Node.js. */
export const processorCommand = (app: string = counterAppModule): CommandLine => [process.execPath, strataCli, 'start', '--role', 'processor', '--no-stack', '--app', app];

export function spawnProcessor(env: NodeJS.ProcessEnv, app: string = counterAppModule): ProcessorProcess {
  return spawnWatched(processorCommand(app), env);
}

/** `command` in an OS process of its own, its output kept as a processor's is. */
export function spawnWatched([program, ...args]: CommandLine, env: NodeJS.ProcessEnv, cwd?: string): ProcessorProcess {
  const child = spawn(program, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const collect = (chunk: Buffer) => log.push(chunk.toString('utf8'));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exit = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  return {
    child,
    log,
    lines: (message) =>
      log
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{') && line.endsWith('}'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === message),
    waitFor: (text, timeoutMs) =>
      new Promise((resolve, reject) => {
        if (log.join('').includes(text)) {
          resolve();
          return;
        }
        const timer = setTimeout(() => {
          child.stdout.off('data', onData);
          reject(new Error(`the process did not log "${text}" within ${timeoutMs} ms`));
        }, timeoutMs);
        // The chunk before this one too: a line may arrive in two.
        const onData = () => {
          if (!log.slice(-2).join('').includes(text)) return;
          clearTimeout(timer);
          child.stdout.off('data', onData);
          resolve();
        };
        child.stdout.on('data', onData);
      }),
    exited: () => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : exit),
  };
}
