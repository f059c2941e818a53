import { parseArgs } from 'node:util';
import {
  importParticipant,
  MAX_LISTED_REFUSALS,
  planFitbitImport,
  type ImportRefusal,
} from '../import/fitbit-import.js';
import { readFitbitFolder, refusalsByParticipant } from '../import/fitbit-sources.js';
import { ensureParticipantUser } from '../import/participant-users.js';
import { parseFitbitTexts } from '../replay/fitbit-data.js';
import { openHealthStores } from '../store/open-health-stores.js';
import { openUserStore } from '../store/open-user-store.js';
import { loadCommandConfig, print } from './environment.js';

/**
 * `pulse import <folder>`: loads the Fitbit data set into the database DATABASE_URL names, one
 * user per participant (fitbit-<id>@participants.pulse.local, as the replay makes them). It
 * writes the database directly; each participant's `googlefit:synced` event waits in the
 * outbox, and a running Pulse on the same database sends it within about two seconds (or when
 * it next starts). Importing again changes nothing and queues nothing.
 */
export async function importCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { participants: { type: 'string' } },
  });
  const [folder] = positionals;
  if (!folder) throw new Error('expected "pulse import <folder>"');
  const wanted = values.participants
    ?.split(',')
    .map((id) => id.trim())
    .filter(Boolean);

  const texts = await readFitbitFolder(folder);
  const data = parseFitbitTexts(texts);
  const refusals = refusalsByParticipant(texts, data.refused);
  const unattributed = refusals.get('') ?? [];
  const plans = [...planFitbitImport(data).values()].filter(
    (plan) => wanted === undefined || wanted.includes(plan.participantId),
  );
  for (const id of wanted ?? []) {
    if (!plans.some((plan) => plan.participantId === id)) print(`no rows for participant ${id}`);
  }

  const { config } = loadCommandConfig();
  const users = await openUserStore(config.databaseUrl);
  try {
    const health = await openHealthStores(config.databaseUrl);
    try {
      const imported = [];
      for (const plan of plans) {
        const user = await ensureParticipantUser(users, plan.participantId);
        const own = refusals.get(plan.participantId) ?? [];
        const { summary, queued } = await importParticipant(health.metrics, user.id, plan, own);
        const { created, updated, unchanged } = summary.days;
        print(
          `participant ${plan.participantId} → ${user.email}: ${created} days created, ` +
            `${updated} updated, ${unchanged} unchanged, ${summary.rows.taken} rows taken`,
        );
        imported.push({
          userId: user.id,
          email: user.email,
          summary,
          eventQueued: queued.length > 0,
        });
      }
      print(
        JSON.stringify({ import: report(folder, data.filesRead, unattributed, imported) }, null, 2),
      );
    } finally {
      await health.close();
    }
  } finally {
    await users.close();
  }
}

interface Imported {
  userId: string;
  email: string;
  eventQueued: boolean;
  summary: {
    participantId: string;
    rows: { taken: number; refused: number };
    days: { created: number; updated: number; unchanged: number };
    refused: { file: string; line?: number; reason: string }[];
  };
}

function report(
  folder: string,
  filesRead: string[],
  unattributed: ImportRefusal[],
  imported: Imported[],
) {
  const sum = (pick: (entry: Imported) => number) =>
    imported.reduce((total, entry) => total + pick(entry), 0);
  const refused = [...unattributed, ...imported.flatMap((entry) => entry.summary.refused)];

  return {
    folder,
    filesRead,
    participants: imported.length,
    rows: {
      taken: sum((entry) => entry.summary.rows.taken),
      refused: unattributed.length + sum((entry) => entry.summary.rows.refused),
    },
    days: {
      created: sum((entry) => entry.summary.days.created),
      updated: sum((entry) => entry.summary.days.updated),
      unchanged: sum((entry) => entry.summary.days.unchanged),
    },
    eventsQueued: imported.filter((entry) => entry.eventQueued).length,
    refused: refused.slice(0, MAX_LISTED_REFUSALS),
    users: imported.map(({ summary, userId, email, eventQueued }) => ({
      participantId: summary.participantId,
      userId,
      email,
      days: summary.days,
      rows: summary.rows,
      eventQueued,
    })),
  };
}
