/**
 * `strata processors status`: who owns each command partition and what it is doing.
 */
import { Command } from 'commander';
import { loadConfig } from '../shared/config.js';
import { processorStatus, type PartitionReport } from '../write-side/processor-status.js';
import { action, exitCodes, printJson } from './command-runner.js';
import { connectOperator } from './operator-connection.js';
import { textTable } from './text-table.js';

const ago = (iso: string) => `${String(Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000)))} s ago`;

function stateOf(report: PartitionReport): string {
  const { status } = report;
  if (status === undefined) return 'no owner yet';
  if (report.stale) return `${status.phase}, owner silent since ${ago(status.at)}`;
  if (status.phase === 'rebuilding' && status.rebuilt !== undefined && status.rebuildEnd !== undefined && status.checkpoint !== undefined) {
    const done = Number(status.rebuilt) - Number(status.checkpoint);
    const total = Number(status.rebuildEnd) - Number(status.checkpoint);
    return `rebuilding ${String(total > 0 ? Math.floor((100 * done) / total) : 100)} %`;
  }
  return status.phase;
}

function row(report: PartitionReport): string[] {
  const { status } = report;
  return [
    String(report.partition),
    stateOf(report),
    status?.owner ?? '-',
    status?.address ?? '-',
    status === undefined ? '-' : ago(status.since),
    status?.checkpoint ?? '-',
    status?.replayed === undefined ? '-' : String(status.replayed),
    String(report.pendingCommands),
    status?.error ?? '',
  ];
}

export function processorsCommand(): Command {
  const processors = new Command('processors').description('the command processors: who owns each command partition');
  processors
    .command('status')
    .description('per command partition: its owner (and where it takes commands directly), its phase (fencing, rebuilding with progress, serving, failed), the checkpoint its rebuild started from, the events replayed, the commands waiting')
    .option('--json', 'print JSON: [{partition, serving, stale, pendingCommands, status: {owner, address, phase, since, at, checkpoint, rebuilt, rebuildEnd, replayed, error}}]')
    .addHelpText(
      'after',
      `
Owners publish their status every few seconds; one silent for longer than the
consumer-group session (STRATA_SESSION_TIMEOUT_MS) is shown as gone.

Examples:
  strata processors status
  strata processors status --json

Exit codes: ${String(exitCodes.ok)} every partition served, ${String(exitCodes.failure)} the stack is not reachable, ${String(exitCodes.notRunning)} a partition is not served.`,
    )
    .action(
      action(async (options: { json?: boolean }) => {
        const config = loadConfig();
        const { log } = await connectOperator(config, 'strata-cli', { redis: false });
        const reports = await processorStatus(log, config);
        if (options.json === true) printJson(reports);
        else process.stdout.write(textTable(['PARTITION', 'STATE', 'OWNER', 'DIRECT', 'SINCE', 'CHECKPOINT', 'REPLAYED', 'PENDING', 'ERROR'], reports.map(row)));
        return reports.every((report) => report.serving) ? exitCodes.ok : exitCodes.notRunning;
      }),
    );
  return processors;
}
