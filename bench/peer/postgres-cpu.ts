/**
 * The CPU time of a whole PostgreSQL server: the postmaster, every process it forked
 * (a backend per connection, the checkpointer, the WAL writer, autovacuum, ...), and
 * those of its children that have exited meanwhile. A backend whose pooled connection
 * closed, or an autovacuum worker that finished, is gone from /proc; its time went into
 * the postmaster's cutime/cstime when the postmaster reaped it, and is read from there.
 */
import { readFileSync } from 'node:fs';
import { cpuSeconds } from '../../infra/stack/process-control.js';
import { childrenOf } from '../bench-processes.js';
import type { CpuMeter } from '../cpu-meters.js';

/** Linux reports process times in USER_HZ ticks, 100 a second (as process-control.ts reads them). */
const ticksPerSecond = 100;

/** CPU seconds of the exited children a process has reaped (cutime + cstime, /proc/PID/stat fields 16 and 17). */
function reapedSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name's last ')', field N is fields[N - 3].
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
  } catch {
    return 0; // gone
  }
}

/** CPU seconds the server has used so far, every process of it. */
export function postgresCpuSeconds(postmaster: number): number {
  // The reaped first: a child exiting between the two reads is then missed once, never counted twice.
  const reaped = reapedSeconds(postmaster);
  const live = childrenOf(postmaster).reduce((sum, child) => sum + (cpuSeconds(child) ?? 0), 0);
  return (cpuSeconds(postmaster) ?? 0) + reaped + live;
}

export const postgresMeter = (postmaster: number): CpuMeter => ({ name: 'postgresql', seconds: () => postgresCpuSeconds(postmaster) });
