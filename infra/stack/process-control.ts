/**
 * Starting and stopping the stack's servers as detached process groups, and the
 * pid files that let a later `strata infra down` find exactly what `up` started.
 *
 * A pid file records the process's start time too: a recycled pid is then never
 * mistaken for one of our servers, and never signalled.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Launch {
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  /** Run as this user (the stack is root and the server refuses root). */
  user?: { uid: number; gid: number };
}

export interface PidRecord {
  pid: number;
  /** Start time in clock ticks since boot (/proc/PID/stat field 22); null where there is no /proc. */
  startTicks: number | null;
}

function procStat(pid: number): { state: string; startTicks: number; cpuTicks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    // Field N is then fields[N - 3]: state 3, utime 14, stime 15, start time 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTicks: Number(fields[19]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

const hasProc = existsSync('/proc/self/stat');

/** Linux reports process times in USER_HZ ticks, 100 a second on every architecture it runs on. */
const ticksPerSecond = 100;

/** CPU time (user + system) a process has used so far, in seconds; undefined without /proc or once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const stat = procStat(pid);
  return stat === undefined ? undefined : stat.cpuTicks / ticksPerSecond;
}

/** True while the recorded process exists, is not a zombie, and is the one we started. */
export function isRunning(record: PidRecord): boolean {
  if (!hasProc) {
    try {
      process.kill(record.pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  const stat = procStat(record.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTicks === record.startTicks;
}

/** True while any process of the group is left (zombies included). */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the server in a new session and process group, so that stopping the group
 * takes down its children too (Elasticsearch's launcher forks the server JVM).
 */
export function launch(spec: Launch, logFile: string): PidRecord & { exited: Promise<number | null> } {
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', log, log],
      ...(spec.user ?? {}),
    });
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => { resolve(code); });
      child.once('error', () => { resolve(null); });
    });
    child.unref();
    if (child.pid === undefined) {
      return { pid: -1, startTicks: null, exited };
    }
    return { pid: child.pid, startTicks: procStat(child.pid)?.startTicks ?? null, exited };
  } finally {
    closeSync(log);
  }
}

export function writePidFile(path: string, record: PidRecord): void {
  writeFileSync(path, JSON.stringify({ pid: record.pid, startTicks: record.startTicks }) + '\n');
}

export function readPidFile(path: string): PidRecord | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<PidRecord>;
    if (typeof parsed.pid !== 'number') return undefined;
    return { pid: parsed.pid, startTicks: parsed.startTicks ?? null };
  } catch {
    return undefined;
  }
}

export function removePidFile(path: string): void {
  rmSync(path, { force: true });
}

/**
 * SIGTERM to the whole group, then SIGKILL if it is still there after `graceMs`.
 * Resolves once no process of the group is left.
 */
export async function stopGroup(record: PidRecord, graceMs: number): Promise<'stopped' | 'killed'> {
  if (isRunning(record)) signalGroup(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupExists(record.pid)) {
    if (Date.now() > deadline) {
      signalGroup(record.pid, 'SIGKILL');
      while (groupExists(record.pid)) await sleep(100);
      return 'killed';
    }
    await sleep(200);
  }
  return 'stopped';
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}
