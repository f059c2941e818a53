/** Calendar dates as `YYYY-MM-DD` strings: the form they are stored, sorted and sent in. */

const DAY_MS = 86_400_000;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Tells whether text is a real calendar date written `YYYY-MM-DD` (so not 2016-02-30). */
export function isCalendarDate(text: string): boolean {
  const match = DATE_PATTERN.exec(text);
  if (!match) return false;

  const time = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));

  return new Date(time).toISOString().slice(0, 10) === text;
}

/** The date `days` after `date` (before it when negative). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to`: 0 for the same date, negative when `to` is earlier. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** Today's date in UTC. */
export function todayUtc(now: number = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** A date after any real one: the open end of a range. */
export const END_OF_TIME = '9999-12-31';
