/**
 * What the stack needs from the machine: Java for the JVM servers (21 for Keycloak), Maven for the
 * first download, Debian's redis-server, and a non-root user for Elasticsearch.
 * Each check either finds the thing, installs it (Debian packages, as root), or
 * stops with a StackError that says what to install.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StackError } from '../../shared/errors.js';
import type { Reporter } from './reporter.js';

const isRoot = process.getuid?.() === 0;

/** Elasticsearch refuses to run as root: a root stack runs it as a system user of its own. */
export const elasticsearchRunsAsOtherUser = isRoot;

function onPath(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

export interface Java {
  /** The java binary. */
  bin: string;
  /** Its home, for Elasticsearch's ES_JAVA_HOME. */
  home: string;
  major: number;
}

function javaAt(bin: string): Java {
  const version = spawnSync(bin, ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)(?:\.(\d+))?/.exec(version.stderr);
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : 0;
  return { bin, home: dirname(dirname(realpathSync(bin))), major };
}

/**
 * Java `minimum` or newer: JAVA_HOME's if set, else the one on PATH, else (for a newer
 * one than those) the newest JDK under /usr/lib/jvm, where Debian and Temurin put them.
 */
export function findJava(minimum = 17, server = 'Kafka, Elasticsearch and Zipkin'): Java {
  const fromHome = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  const bin = fromHome !== undefined && existsSync(fromHome) ? fromHome : onPath('java');
  const hint = `Install a Java ${String(minimum)}+ runtime (Debian: apt-get install openjdk-${String(minimum)}-jre-headless) or set JAVA_HOME.`;
  const first = bin === undefined ? undefined : javaAt(bin);
  if (first !== undefined && first.major >= minimum) return first;
  const installed = existsSync('/usr/lib/jvm')
    ? readdirSync('/usr/lib/jvm').map((entry) => join('/usr/lib/jvm', entry, 'bin', 'java')).filter((path) => existsSync(path))
    : [];
  const newest = installed.map(javaAt).sort((a, b) => b.major - a.major)[0];
  if (newest !== undefined && newest.major >= minimum) return newest;
  if (first === undefined) throw new StackError(`${server} need Java, and none was found.`, hint);
  throw new StackError(`${first.bin} is Java ${first.major > 0 ? String(first.major) : 'of an unknown version'}; ${server} need ${String(minimum)} or newer.`, hint);
}

export function findMaven(): string {
  const mvn = onPath('mvn');
  if (mvn === undefined) {
    throw new StackError(
      'The first `strata infra up` fetches the servers from Maven Central, and Maven was not found.',
      'Install Maven (Debian: apt-get install maven), or copy a filled artifact cache (STRATA_ARTIFACTS_DIR).',
    );
  }
  return mvn;
}

/** Runs a command, passing each output line to the reporter; rejects on a non-zero exit. */
export function runWithProgress(
  command: string,
  args: string[],
  reporter: Reporter,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        reporter.detail(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => { reject(new StackError(`${command} could not run: ${error.message}`)); });
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new StackError(`${command} ${args.join(' ')} failed (exit ${code}):\n${tail.join('\n')}`));
    });
  });
}

/** Debian's redis-server; installed with apt-get when missing and we are root. */
export async function ensureRedisServer(reporter: Reporter): Promise<string> {
  const found = onPath('redis-server') ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined);
  if (found !== undefined) return found;
  if (!isRoot || onPath('apt-get') === undefined) {
    throw new StackError(
      'redis-server was not found.',
      'Install it (Debian: sudo apt-get install redis-server); the stack runs its own instance on STRATA_REDIS_PORT.',
    );
  }
  reporter.step('installing redis-server from Debian packages (first run only)');
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await runWithProgress('apt-get', ['update'], reporter, { env });
  await runWithProgress('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], reporter, { env });
  // Debian's package may start its own service on 6379; ours never uses it.
  return '/usr/bin/redis-server';
}

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * Elasticsearch refuses to run as root. When the stack runs as root it creates a
 * dedicated system user and runs Elasticsearch as that user; otherwise undefined.
 */
export function elasticsearchUser(name: string): SystemUser | undefined {
  if (!elasticsearchRunsAsOtherUser) return undefined;
  const lookup = () => spawnSync('id', ['-u', name], { encoding: 'utf8' });
  let uid = lookup();
  if (uid.status !== 0) {
    const created = spawnSync(
      'useradd',
      ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name],
      { encoding: 'utf8' },
    );
    if (created.status !== 0) {
      throw new StackError(
        `Could not create the system user ${name} for Elasticsearch: ${created.stderr.trim()}`,
        'Elasticsearch refuses to run as root; create the user by hand or run the stack as a normal user.',
      );
    }
    uid = lookup();
  }
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Fails clearly when `user` cannot read `path` (a project under /root, say). */
export function assertReadableBy(user: SystemUser, path: string): void {
  const probe = spawnSync('test', ['-r', path], { uid: user.uid, gid: user.gid });
  if (probe.status !== 0) {
    throw new StackError(
      `Elasticsearch runs as the system user ${user.name}, which cannot read ${path}.`,
      'Point STRATA_ARTIFACTS_DIR at a folder other users can enter (by default root\'s is /var/cache/strata).',
    );
  }
}
