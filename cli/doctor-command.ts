/**
 * `strata doctor`: what Strata owns on the Kafka cluster for the configured prefix (its
 * topics, its consumer groups and their members), and the groups left behind by older
 * versions, whose followers (gateways, dead-letter views, event tails) each made a group
 * with a random name that outlived them. `--delete-leftovers` removes those.
 */
import { Command } from 'commander';
import { loadConfig } from '../shared/config.js';
import type { LogAdmin } from '../shared/kafka/log-client.js';
import { action, exitCodes, printJson } from './command-runner.js';
import { connectOperator } from './operator-connection.js';
import { textTable } from './text-table.js';

type GroupKind = 'processors' | 'projector' | 'projection' | 'saga' | 'throwaway' | 'other';

interface GroupReport {
  group: string;
  kind: GroupKind;
  members: number;
  /** An empty group of a kind nothing uses any more: safe to delete. */
  leftover: boolean;
}

interface DoctorReport {
  prefix: string;
  topics: string[];
  groups: GroupReport[];
  /** With --delete-leftovers: the groups deleted, and those that could not be (with why). */
  deleted?: string[];
  notDeleted?: { group: string; reason: string }[];
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/**
 * The platform's lasting groups are named `<prefix>.command-processors`, `<prefix>.projection.*`
 * and `<prefix>.saga.*`; a projector's feed is `<prefix>.projector.*` (it commits nothing, so
 * it is gone once empty); throwaway ones (followers before this version, a bounded read
 * whose process was killed) `<prefix>.<name>-<uuid>`.
 */
function kindOf(prefix: string, group: string): GroupKind {
  const rest = group.slice(prefix.length + 1);
  if (rest === 'command-processors') return 'processors';
  if (rest.startsWith('projection.')) return 'projection';
  if (rest.startsWith('projector.')) return 'projector';
  if (rest.startsWith('saga.')) return 'saga';
  return new RegExp(`^${escaped(prefix)}\\.[a-z][a-z-]*-${uuid}$`).test(group) ? 'throwaway' : 'other';
}

async function inspect(admin: LogAdmin, prefix: string): Promise<DoctorReport> {
  const ours = (name: string) => name.startsWith(`${prefix}.`);
  const topics = (await admin.listTopics()).filter(ours).sort();
  const names = (await admin.listGroups()).filter(ours).sort();
  const groups = await Promise.all(
    names.map(async (group): Promise<GroupReport> => {
      const members = (await admin.groupMembers(group)).length;
      const kind = kindOf(prefix, group);
      return { group, kind, members, leftover: kind === 'throwaway' && members === 0 };
    }),
  );
  return { prefix, topics, groups };
}

/** Deletes the empty leftovers, each checked again just before: a group that gained a member is kept. */
async function deleteLeftovers(admin: LogAdmin, prefix: string, groups: readonly GroupReport[]): Promise<Pick<DoctorReport, 'deleted' | 'notDeleted'>> {
  const deleted: string[] = [];
  const notDeleted: { group: string; reason: string }[] = [];
  for (const { group } of groups.filter(({ leftover }) => leftover)) {
    if (kindOf(prefix, group) !== 'throwaway' || (await admin.groupMembers(group)).length > 0) {
      notDeleted.push({ group, reason: 'it has members now' });
      continue;
    }
    try {
      await admin.deleteGroups([group]);
      deleted.push(group);
    } catch (error) {
      notDeleted.push({ group, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return { deleted, notDeleted };
}

function printText(report: DoctorReport): void {
  const { topics, groups } = report;
  process.stdout.write(`Topics of prefix ${report.prefix} (${String(topics.length)}):\n`);
  process.stdout.write(topics.map((topic) => `  ${topic}\n`).join(''));
  process.stdout.write(`\nConsumer groups (${String(groups.length)}):\n`);
  const rows = groups.map(({ group, kind, members, leftover }) => [group, kind, String(members), leftover ? 'left behind: --delete-leftovers removes it' : '']);
  if (rows.length > 0) process.stdout.write(textTable(['GROUP', 'KIND', 'MEMBERS', 'NOTE'], rows));
  for (const group of report.deleted ?? []) process.stdout.write(`deleted ${group}\n`);
  for (const { group, reason } of report.notDeleted ?? []) process.stdout.write(`kept ${group}: ${reason}\n`);
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description("what Strata owns on the Kafka cluster for the configured prefix (STRATA_TOPIC_PREFIX): its topics, its consumer groups with their members, and the empty groups older versions left behind")
    .option('--delete-leftovers', 'delete the empty groups left behind (never a group with members, nor the processors\', projections\' or sagas\' groups)')
    .option('--json', 'print JSON: {prefix, topics: [name], groups: [{group, kind, members, leftover}], deleted?: [group], notDeleted?: [{group, reason}]}')
    .addHelpText(
      'after',
      `
Left behind: groups named <prefix>.<name>-<uuid> with no members. Followers (a
gateway's outcome listener, a projector's dead-letter view, \`events tail --follow\`)
made one per start before they read without a consumer group; a bounded read's
group stays when its process is killed. Kinds: processors, projection, saga (the
platform's own, never deleted), throwaway (<prefix>.<name>-<uuid>: deleted once
empty), other (not Strata's naming: never deleted).

Examples:
  strata doctor
  strata doctor --json
  STRATA_TOPIC_PREFIX=staging strata doctor --delete-leftovers

Exit codes: ${String(exitCodes.ok)} listed (and deleted), ${String(exitCodes.failure)} the stack is not reachable or a leftover was not deleted (it failed, or gained a member).`,
    )
    .action(
      action(async (options: { json?: boolean; deleteLeftovers?: boolean }) => {
        const config = loadConfig();
        const { log } = await connectOperator(config, 'strata-cli', { redis: false });
        const report = await log.withAdmin(async (admin) => {
          const found = await inspect(admin, config.topics.prefix);
          return options.deleteLeftovers === true ? { ...found, ...(await deleteLeftovers(admin, found.prefix, found.groups)) } : found;
        });
        if (options.json === true) printJson(report);
        else printText(report);
        return (report.notDeleted ?? []).length > 0 ? exitCodes.failure : exitCodes.ok;
      }),
    );
}
