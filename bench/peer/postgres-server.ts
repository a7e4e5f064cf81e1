/**
 * The peer's own PostgreSQL: a throwaway cluster the bench makes in a fresh folder under
 * /tmp, on a free loopback port, its socket in that folder, then stops (fast shutdown)
 * and deletes. It never touches the machine's own PostgreSQL (5432): another data
 * folder, another port (freePorts hands out ephemeral ones), another socket folder.
 *
 * synchronous_commit=off, as in the measurement the peer stands for: a commit answers
 * before its WAL is flushed (the WAL writer flushes within 200 ms). fsync stays on, so a
 * crash loses at most those last commits, never the cluster.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePorts } from '../../infra/stack/ports.js';
import { onInterrupt } from './on-interrupt.js';

const run = promisify(execFile);

export interface PostgresServer {
  /** How the peer service connects: postgresql://postgres:…@127.0.0.1:port/postgres. */
  url: string;
  /** The postmaster; every other process of the server is its child. */
  pid: number;
  /** `postgres --version`, e.g. "PostgreSQL 15.20". */
  version: string;
  /** Fast shutdown, then the folder deleted; safe to call more than once, and called on Ctrl-C. */
  stop(): Promise<void>;
}

/** Debian's server binaries (/usr/lib/postgresql/<major>/bin), the newest major installed. */
function binaries(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((major) => existsSync(join(root, major, 'bin', 'postgres'))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error('PostgreSQL\'s server binaries were not found under /usr/lib/postgresql (Debian: apt-get install postgresql)');
  return join(root, newest, 'bin');
}

/** PostgreSQL refuses to run as root: it runs as Debian's `postgres` system user. */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const [uid, gid] = [id('-u'), id('-g')];
  if (uid.status !== 0 || gid.status !== 0) throw new Error('no system user postgres to run PostgreSQL as (Debian\'s postgresql package creates it)');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** A cluster in `folder`/data whose superuser `postgres` logs in over TCP with `password`. */
async function initCluster(bin: string, folder: string, user: { uid: number; gid: number }, password: string): Promise<void> {
  const passwordFile = join(folder, 'password');
  writeFileSync(passwordFile, password, { mode: 0o600 });
  chownSync(passwordFile, user.uid, user.gid);
  try {
    // --no-sync: a cluster thrown away after the run need not reach the disk before it starts.
    const args = ['-D', join(folder, 'data'), '-U', 'postgres', `--pwfile=${passwordFile}`, '--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8', '--no-locale', '--no-sync'];
    await run(join(bin, 'initdb'), args, { cwd: folder, ...user });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`initdb failed: ${stderr ?? String(error)}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/**
 * The postmaster, in a process group of its own: the terminal's Ctrl-C does not reach its
 * backends mid-query; the bench shuts it down itself (on-interrupt.ts).
 */
function spawnPostmaster(bin: string, folder: string, port: number, user: { uid: number; gid: number }): ChildProcess {
  const log = openSync(join(folder, 'postgres.log'), 'a');
  try {
    const settings = { listen_addresses: '127.0.0.1', port: String(port), unix_socket_directories: folder, synchronous_commit: 'off' };
    const args = ['-D', join(folder, 'data'), ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
    const child = spawn(join(bin, 'postgres'), args, { cwd: folder, detached: true, stdio: ['ignore', log, log], ...user });
    child.on('error', () => undefined); // a failed start shows as its exit, below
    return child;
  } finally {
    closeSync(log);
  }
}

/** Resolves once the server accepts connections; fails with its log if it exits or takes over a minute. */
async function waitAccepting(bin: string, port: number, postmaster: ChildProcess, folder: string): Promise<void> {
  const log = () => (existsSync(join(folder, 'postgres.log')) ? readFileSync(join(folder, 'postgres.log'), 'utf8').slice(-2000) : '');
  for (let attempt = 0; attempt < 600; attempt++) {
    if (postmaster.exitCode !== null || postmaster.signalCode !== null) throw new Error(`PostgreSQL exited at start:\n${log()}`);
    try {
      await run(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]);
      return;
    } catch {
      await sleep(100); // not accepting yet
    }
  }
  throw new Error(`PostgreSQL did not accept connections on 127.0.0.1:${port} within a minute:\n${log()}`);
}

/** Fast shutdown of the postmaster started here (immediate if it hangs), then the folder deleted. */
async function shutDown(postmaster: ChildProcess | undefined, folder: string): Promise<void> {
  if (postmaster?.pid !== undefined && postmaster.exitCode === null && postmaster.signalCode === null) {
    const exited = once(postmaster, 'exit');
    // SIGINT is PostgreSQL's fast shutdown: open transactions rolled back, a checkpoint, exit.
    postmaster.kill('SIGINT');
    const immediate = setTimeout(() => postmaster.kill('SIGQUIT'), 30_000);
    await exited;
    clearTimeout(immediate);
  }
  rmSync(folder, { recursive: true, force: true });
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binaries();
  const user = postgresUser();
  const folder = mkdtempSync('/tmp/strata-bench-postgres-');
  let postmaster: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= shutDown(postmaster, folder).finally(() => { release(); }));
  const release = onInterrupt(stop);
  try {
    chownSync(folder, user.uid, user.gid);
    const password = randomBytes(18).toString('base64url');
    await initCluster(bin, folder, user, password);
    const [port = 0] = await freePorts(1);
    postmaster = spawnPostmaster(bin, folder, port, user);
    await waitAccepting(bin, port, postmaster, folder);
    const { stdout } = await run(join(bin, 'postgres'), ['--version']);
    return {
      url: `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`,
      pid: postmaster.pid ?? 0,
      version: stdout.replace(/^postgres \(PostgreSQL\) /, 'PostgreSQL ').trim(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
