/**
 * Separate hosts on this machine: a Linux network namespace per host, one address
 * each, joined by veth pairs to a bridge that lives in a namespace of its own (the
 * switch). Nothing is added to the machine's own namespace, so its interfaces,
 * routes and firewall (a forward policy of DROP would stop bridged traffic) play no
 * part; no host has a default route or NAT, so a host reaches the others and its own
 * loopback, nothing else.
 *
 * Every name starts with `strata-hosts-<pid>-`: a run removes what a crashed run
 * left (its pid gone) and never touches one still going.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const prefix = 'strata-hosts-';
/** The prefix of this run's namespaces and temporary folders. */
export const runPrefix = `${prefix}${String(process.pid)}-`;

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Why this machine cannot make network namespaces, or undefined when it can. */
export function namespacesRefused(): string | undefined {
  const probe = `${runPrefix}probe`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'delete', probe);
    return undefined;
  } catch (error) {
    const { stderr = '', message } = error as { stderr?: string; message: string };
    return `this machine refuses network namespaces (ip netns add: ${stderr.trim() === '' ? message : stderr.trim()})`;
  }
}

/** Sends `signal` to `pid`; whether the process exists (a process already gone is not an error). */
const signal = (pid: number, name: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(pid, name);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};
const alive = (pid: number) => signal(pid, 0);

const namespaces = (): string[] => ip('netns', 'list').split('\n').map((line) => line.split(' ')[0] ?? '').filter(Boolean);

/** Stops the processes inside the namespaces named (SIGTERM, SIGKILL after 10 s), then deletes them. */
async function removeNamespaces(names: readonly string[]): Promise<void> {
  const existing = names.filter((name) => namespaces().includes(name));
  const pids = existing.flatMap((name) => ip('netns', 'pids', name).split('\n').filter(Boolean).map(Number));
  for (const pid of pids) signal(pid, 'SIGTERM');
  for (const deadline = Date.now() + 10_000; pids.some(alive) && Date.now() < deadline; ) await sleep(100);
  for (const pid of pids) signal(pid, 'SIGKILL');
  for (const name of existing) ip('netns', 'delete', name);
}

/** Removes the namespaces and temporary folders of earlier runs whose process is gone. */
export async function removeStaleHosts(): Promise<void> {
  const staleRun = (name: string) => {
    const match = new RegExp(`^${prefix}(\\d+)-`).exec(name);
    return match !== null && !alive(Number(match[1]));
  };
  await removeNamespaces(namespaces().filter(staleRun));
  for (const folder of readdirSync(tmpdir()).filter(staleRun)) rmSync(join(tmpdir(), folder), { recursive: true, force: true });
}

const toNumber = (address: string) => address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);

/** The networks of this machine's addresses and routes, as [first, last] address numbers. */
function networksInUse(): [number, number][] {
  const text = `${ip('-4', '-o', 'addr', 'show')}\n${ip('-4', 'route', 'show', 'table', 'all')}`;
  return [...text.matchAll(/(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)].map(([, address = '', bits = '32']) => {
    const size = 2 ** (32 - Number(bits));
    const first = Math.floor(toNumber(address) / size) * size;
    return [first, first + size - 1];
  });
}

/** A private /24 that no address or route of this machine overlaps. */
function freeSubnet(): string {
  const used = networksInUse();
  const free = ['10.213.71', '172.29.213', '192.168.213'].find((candidate) => {
    const first = toNumber(`${candidate}.0`);
    return used.every(([low, high]) => high < first || low > first + 255);
  });
  if (free === undefined) throw new Error('no private /24 left free of this machine\'s addresses and routes');
  return free;
}

export interface HostNetwork {
  /** Each host's address. */
  addresses: Record<string, string>;
  /** The command line that runs `command` on `host`. */
  on(host: string, command: readonly string[]): [string, ...string[]];
  /** Stops whatever runs on the hosts (SIGTERM, then SIGKILL after 10 s) and deletes them and the switch. */
  remove(): Promise<void>;
}

/** Hosts named `hosts`, numbered from .11 of a free /24, on one switch. */
export async function createHostNetwork(hosts: readonly string[]): Promise<HostNetwork> {
  const subnet = freeSubnet();
  const namespace = (host: string) => `${runPrefix}${host}`;
  const names = [namespace('switch'), ...hosts.map(namespace)];
  const addresses = Object.fromEntries(hosts.map((host, index) => [host, `${subnet}.${String(11 + index)}`]));
  const network: HostNetwork = {
    addresses,
    on: (host, command) => ['ip', 'netns', 'exec', namespace(host), ...command],
    remove: () => removeNamespaces(names),
  };
  try {
    const sw = namespace('switch');
    ip('netns', 'add', sw);
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
    for (const host of hosts) {
      const ns = namespace(host);
      ip('netns', 'add', ns);
      // The host's end is its eth0; the switch's end, named after the host, is a port of br0.
      ip('-n', sw, 'link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', sw, 'link', 'set', host, 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `${addresses[host] ?? ''}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  } catch (error) {
    await network.remove();
    throw error;
  }
  return network;
}
