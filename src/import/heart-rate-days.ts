import { formatDate, type HeartRateSample } from '../replay/fitbit-data.js';

/**
 * Resting heart rate is the lowest mean over a five-minute stretch of the clock that holds at
 * least 30 samples (half of what a wearer sampled every 5 s gives): low enough to find the
 * calm part of a day, long enough that one quiet reading does not count.
 */
export const RESTING_WINDOW_MS = 5 * 60_000;

/** The samples a five-minute stretch needs before its mean can count as resting. */
export const RESTING_MIN_SAMPLES = 30;

/** One participant's heart rate over one day. */
export interface HeartRateDay {
  participantId: string;
  date: string;
  /** Mean of every sample of the day, in bpm, to one decimal. */
  average: number;
  /** See RESTING_WINDOW_MS; null when no stretch had enough samples. */
  resting: number | null;
  samples: number;
}

/** Sums daily heart rate from samples (of any participants), by participant and date. */
export function heartRateDays(samples: readonly HeartRateSample[]): HeartRateDay[] {
  const days = new Map<string, HeartRateSample[]>();
  for (const sample of samples) {
    const key = `${sample.participantId}|${formatDate(sample.time)}`;
    const day = days.get(key);
    if (day) day.push(sample);
    else days.set(key, [sample]);
  }

  return [...days.values()].map((daySamples) => summarize(daySamples));
}

function summarize(samples: HeartRateSample[]): HeartRateDay {
  const first = samples[0]!;
  const windows = new Map<number, number[]>();
  for (const sample of samples) {
    const window = Math.floor(sample.time / RESTING_WINDOW_MS);
    const values = windows.get(window);
    if (values) values.push(sample.bpm);
    else windows.set(window, [sample.bpm]);
  }
  const calmest = [...windows.values()]
    .filter((values) => values.length >= RESTING_MIN_SAMPLES)
    .map(mean)
    .reduce<number | null>(
      (lowest, value) => (lowest === null ? value : Math.min(lowest, value)),
      null,
    );

  return {
    participantId: first.participantId,
    date: formatDate(first.time),
    average: oneDecimal(mean(samples.map((sample) => sample.bpm))),
    resting: calmest === null ? null : oneDecimal(calmest),
    samples: samples.length,
  };
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function oneDecimal(value: number): number {
  return Math.round(value * 10) / 10;
}
