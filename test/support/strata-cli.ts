/** The `strata` CLI as a user runs it, in a process of its own: its exit code, its output and how long it took. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../shared/package-files.js';

const cli = join(packageRoot, 'dist', 'cli', 'main.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `strata <args>` with this process's environment and `env` over it. */
export function strata(args: string[], env: Record<string, string>): Promise<Run> {
  const began = Date.now();
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => { resolve({ code, stdout, stderr, ms: Date.now() - began }); }));
}
