import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { parseCsv, type CsvRecord } from './csv.js';

/**
 * File names of the Fitbit data set that the replay reads. `hourlySteps_merged.csv` is part of the
 * data set but not replayed: the daily totals already carry the steps.
 */
export const FITBIT_FILES = {
  dailyActivity: 'dailyActivity_merged.csv',
  sleepDay: 'sleepDay_merged.csv',
  heartRate: 'heartrate_seconds_sample.csv',
} as const;

/** One heart-rate reading; `time` is the data set's wall-clock time read as UTC milliseconds. */
export interface HeartRateSample {
  participantId: string;
  time: number;
  bpm: number;
}

/**
 * One participant's day, merging the activity and sleep rows of that date. Activity fields are null
 * on a day that only has a sleep row; `sleepMinutes` is null on a day without one.
 */
export interface DailyRecord {
  participantId: string;
  date: string;
  steps: number | null;
  /** Kilometres, exactly as the data set gives them. */
  distance: number | null;
  calories: number | null;
  /** Very active + fairly active + lightly active minutes. */
  activeMinutes: number | null;
  sleepMinutes: number | null;
}

/** A data row that was left out, with the reason. */
export interface RefusedRow {
  file: string;
  line: number;
  reason: string;
}

/** Everything loaded from a Fitbit folder. */
export interface FitbitData {
  /** Sorted by date, then participant id. */
  daily: DailyRecord[];
  /** Sorted by time, then participant id. */
  heartRate: HeartRateSample[];
  refused: RefusedRow[];
  /** The data set files that were present and read. */
  filesRead: string[];
}

/** The text of whichever data set files exist; absent keys mean the file is missing. */
export type FitbitTexts = Partial<Record<keyof typeof FITBIT_FILES, string>>;

// A row-level refusal: caught per row so one bad row never stops the load.
class RowRefusal extends Error {}

/** Reads the Fitbit files present in `folder`; fails only when the folder holds none of them. */
export async function loadFitbitFolder(folder: string): Promise<FitbitData> {
  const info = await stat(folder).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    throw new Error(`replay folder not found or not a directory: ${folder}`);
  }

  const texts: FitbitTexts = {};
  for (const [key, name] of Object.entries(FITBIT_FILES)) {
    const text = await readFile(path.join(folder, name), 'utf8').catch(ignoreMissing);
    if (text !== undefined) {
      texts[key as keyof FitbitTexts] = text;
    }
  }

  if (Object.keys(texts).length === 0) {
    const expected = Object.values(FITBIT_FILES).join(', ');
    throw new Error(`no Fitbit data files in ${folder}: expected at least one of ${expected}`);
  }

  return parseFitbitTexts(texts);
}

function ignoreMissing(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return undefined;
  }
  throw error;
}

/** Parses the data set files' text; rows that cannot be read are refused, never thrown. */
export function parseFitbitTexts(texts: FitbitTexts): FitbitData {
  const refused: RefusedRow[] = [];
  const filesRead = (Object.keys(FITBIT_FILES) as (keyof FitbitTexts)[])
    .filter((key) => texts[key] !== undefined)
    .map((key) => FITBIT_FILES[key]);

  const days = new Map<string, DailyRecord>();
  eachRow(FITBIT_FILES.dailyActivity, texts.dailyActivity, refused, (record) => {
    addActivity(days, record);
  });
  const sleepKeys = new Set<string>();
  eachRow(FITBIT_FILES.sleepDay, texts.sleepDay, refused, (record) => {
    addSleep(days, sleepKeys, record);
  });

  const heartRate: HeartRateSample[] = [];
  eachRow(FITBIT_FILES.heartRate, texts.heartRate, refused, (record) => {
    heartRate.push(readHeartRate(record));
  });

  const daily = [...days.values()].sort(
    (a, b) => compare(a.date, b.date) || compare(a.participantId, b.participantId),
  );
  heartRate.sort((a, b) => a.time - b.time || compare(a.participantId, b.participantId));

  return { daily, heartRate, refused, filesRead };
}

function eachRow(
  file: string,
  text: string | undefined,
  refused: RefusedRow[],
  read: (record: CsvRecord) => void,
): void {
  if (text === undefined) {
    return;
  }

  for (const record of parseCsv(text).records) {
    try {
      if (record.problem !== undefined) {
        throw new RowRefusal(record.problem);
      }
      read(record);
    } catch (error) {
      if (!(error instanceof RowRefusal)) {
        throw error;
      }
      refused.push({ file, line: record.line, reason: error.message });
    }
  }
}

function addActivity(days: Map<string, DailyRecord>, record: CsvRecord): void {
  const participantId = readParticipant(record);
  const date = formatDate(readDate(record, 'ActivityDate'));
  const key = `${participantId}|${date}`;
  if (days.has(key)) {
    throw new RowRefusal(`duplicate activity row for participant ${participantId} on ${date}`);
  }

  const activeMinutes =
    readWhole(record, 'VeryActiveMinutes') +
    readWhole(record, 'FairlyActiveMinutes') +
    readWhole(record, 'LightlyActiveMinutes');
  days.set(key, {
    participantId,
    date,
    steps: readWhole(record, 'TotalSteps'),
    distance: readDecimal(record, 'TotalDistance'),
    calories: readWhole(record, 'Calories'),
    activeMinutes,
    sleepMinutes: null,
  });
}

function addSleep(days: Map<string, DailyRecord>, sleepKeys: Set<string>, record: CsvRecord): void {
  const participantId = readParticipant(record);
  const date = formatDate(readDate(record, 'SleepDay'));
  const sleepMinutes = readWhole(record, 'TotalMinutesAsleep');
  const key = `${participantId}|${date}`;
  if (sleepKeys.has(key)) {
    throw new RowRefusal(`duplicate sleep row for participant ${participantId} on ${date}`);
  }
  sleepKeys.add(key);

  const day = days.get(key);
  if (day !== undefined) {
    day.sleepMinutes = sleepMinutes;
    return;
  }
  days.set(key, {
    participantId,
    date,
    steps: null,
    distance: null,
    calories: null,
    activeMinutes: null,
    sleepMinutes,
  });
}

function readHeartRate(record: CsvRecord): HeartRateSample {
  const participantId = readParticipant(record);
  const time = readDate(record, 'Time');
  const bpm = readWhole(record, 'Value');
  if (bpm === 0) {
    throw new RowRefusal('Value is 0, not a heart rate');
  }

  return { participantId, time, bpm };
}

function column(record: CsvRecord, name: string): string {
  const value = record.values[name]?.trim();
  if (value === undefined || value === '') {
    throw new RowRefusal(`missing ${name}`);
  }

  return value;
}

function readParticipant(record: CsvRecord): string {
  const id = column(record, 'Id');
  if (!/^\d+$/.test(id)) {
    throw new RowRefusal(`Id is not a participant number: ${JSON.stringify(id)}`);
  }

  return id;
}

function readWhole(record: CsvRecord, name: string): number {
  const value = column(record, name);
  if (!/^\d+$/.test(value)) {
    throw new RowRefusal(`${name} is not a whole number: ${JSON.stringify(value)}`);
  }

  return Number(value);
}

function readDecimal(record: CsvRecord, name: string): number {
  const value = column(record, name);
  if (!/^(\d+\.?\d*|\.\d+)$/.test(value)) {
    throw new RowRefusal(`${name} is not a decimal number: ${JSON.stringify(value)}`);
  }

  return Number(value);
}

function readDate(record: CsvRecord, name: string): number {
  const value = column(record, name);
  const time = parseUsDateTime(value);
  if (time === undefined) {
    throw new RowRefusal(`${name} is not a US date: ${JSON.stringify(value)}`);
  }

  return time;
}

const US_DATE_TIME =
  /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AP])M)?)?$/i;

/**
 * Parses `M/D/YYYY`, optionally followed by `H:MM`, `H:MM:SS` and `AM`/`PM`, as a wall-clock time
 * in milliseconds read as UTC, so results never depend on the machine's time zone. Returns
 * undefined for anything else, including impossible dates such as 2/30/2016.
 */
export function parseUsDateTime(text: string): number | undefined {
  const match = US_DATE_TIME.exec(text.trim());
  if (match === null) {
    return undefined;
  }

  const part = (index: number): number => Number(match[index] ?? 0);
  const month = part(1);
  const day = part(2);
  const hour = part(4);
  const minute = part(5);
  const second = part(6);
  const meridiem = match[7]?.toUpperCase();
  if (meridiem !== undefined && (hour < 1 || hour > 12)) {
    return undefined;
  }
  // 12 AM is midnight and 12 PM is noon on the 12-hour clock.
  const hour24 = meridiem === undefined ? hour : (hour % 12) + (meridiem === 'P' ? 12 : 0);
  if (hour24 > 23 || minute > 59 || second > 59) {
    return undefined;
  }

  const time = Date.UTC(part(3), month - 1, day, hour24, minute, second);
  const check = new Date(time);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return undefined;
  }

  return time;
}

/** Formats UTC milliseconds as the calendar date `YYYY-MM-DD` they fall on. */
export function formatDate(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
