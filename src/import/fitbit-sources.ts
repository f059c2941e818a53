import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCsv } from '../replay/csv.js';
import {
  FITBIT_FILES,
  parseFitbitTexts,
  type FitbitTexts,
  type RefusedRow,
} from '../replay/fitbit-data.js';
import { planFitbitImport, type ImportRefusal, type ParticipantPlan } from './fitbit-import.js';

/** Where an import's CSV text comes from: a folder on disk, or one participant's upload. */

/** One participant's part of an upload that may hold other participants' rows too. */
export interface UploadPlan {
  plan: ParticipantPlan;
  /** Rows refused while parsing that carry this participant's Id, or none at all. */
  refused: ImportRefusal[];
  /** How many other participants had rows in the files; those rows are left out. */
  otherParticipants: number;
}

/** Reads whichever Fitbit files a folder holds; fails when it holds none of them. */
export async function readFitbitFolder(folder: string): Promise<FitbitTexts> {
  const texts: FitbitTexts = {};
  for (const [key, name] of Object.entries(FITBIT_FILES)) {
    try {
      texts[key as keyof FitbitTexts] = await readFile(join(folder, name), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw error;
    }
  }
  if (Object.keys(texts).length === 0) {
    const expected = Object.values(FITBIT_FILES).join(', ');
    throw new Error(`no Fitbit files in ${folder}: expected at least one of ${expected}`);
  }

  return texts;
}

/** Plans the import of one participant from the text of their export files. */
export function planUpload(texts: FitbitTexts, participantId: string): UploadPlan {
  const data = parseFitbitTexts(texts);
  const plans = planFitbitImport(data);
  const refusals = refusalsByParticipant(texts, data.refused);

  return {
    plan: plans.get(participantId) ?? { participantId, patches: [], rowsTaken: 0, refused: [] },
    refused: [...(refusals.get('') ?? []), ...(refusals.get(participantId) ?? [])],
    otherParticipants: [...plans.keys()].filter((id) => id !== participantId).length,
  };
}

/**
 * Sorts the rows the parser refused by the participant whose `Id` they carry, so each
 * participant's report holds only its own; rows without a readable `Id` go under ''.
 */
export function refusalsByParticipant(
  texts: FitbitTexts,
  refused: readonly RefusedRow[],
): Map<string, ImportRefusal[]> {
  const idsByFile = new Map<string, Map<number, string>>();
  for (const [key, file] of Object.entries(FITBIT_FILES)) {
    const text = texts[key as keyof FitbitTexts];
    if (text === undefined || !refused.some((row) => row.file === file)) continue;
    const ids = parseCsv(text).records.map((record) => [record.line, record.values.Id?.trim()]);
    idsByFile.set(file, new Map(ids.filter((entry): entry is [number, string] => !!entry[1])));
  }

  const sorted = new Map<string, ImportRefusal[]>();
  for (const { file, line, reason } of refused) {
    const id = idsByFile.get(file)?.get(line);
    const participantId = id !== undefined && /^\d+$/.test(id) ? id : '';
    sorted.set(participantId, [...(sorted.get(participantId) ?? []), { file, line, reason }]);
  }

  return sorted;
}
