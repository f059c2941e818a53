import { addDays, daysBetween } from '../health/calendar.js';
import { METRIC_NAMES, type DailyMetrics, type MetricName } from '../health/metric-fields.js';
import { leastSquaresSlope, mean, round, standardDeviation } from './statistics.js';

/**
 * What the analytics job computes for one user and metric, as of the user's latest day.
 * Windows are calendar days ending on `asOf`; days without a value are left out, not zero.
 *
 * - Averages: the mean over the last 7 and the last 30 days.
 * - Trend: the least-squares slope, per day, over the last 14 days (at least
 *   TREND_MIN_DAYS values). The direction is `flat` when the fitted change across the window
 *   (slope × 13) is at most FLAT_SHARE of the window's mean, else `up` or `down`.
 * - Anomalies: among the last 30 days, a day whose value lies ANOMALY_Z_THRESHOLD or more
 *   sample standard deviations from the mean of the 30 days before it (the day itself
 *   excluded), when those hold at least ANOMALY_MIN_BASELINE values and vary at all.
 */
export interface AnalyticsItem {
  metric: MetricName;
  asOf: string;
  average7: number | null;
  days7: number;
  average30: number | null;
  days30: number;
  trend: Trend;
  anomalies: Anomaly[];
}

/** The direction and slope of the last 14 days. */
export interface Trend {
  direction: 'up' | 'down' | 'flat' | 'unknown';
  /** Units of the metric per day; null with fewer than TREND_MIN_DAYS values. */
  slopePerDay: number | null;
  days: number;
}

/** A day far outside the user's own recent spread. */
export interface Anomaly {
  date: string;
  value: number;
  /** (value − baseline mean) / baseline standard deviation. */
  zScore: number;
  baselineMean: number;
  baselineStandardDeviation: number;
}

/** Days in the trend window. */
export const TREND_DAYS = 14;
/** Values the trend needs. */
export const TREND_MIN_DAYS = 7;
/** The share of the mean below which a fitted change counts as flat. */
export const FLAT_SHARE = 0.05;
/** |z| at or above which a day is an anomaly. */
export const ANOMALY_Z_THRESHOLD = 3;
/** Days before a day that form its baseline. */
export const ANOMALY_BASELINE_DAYS = 30;
/** Values a baseline needs. */
export const ANOMALY_MIN_BASELINE = 10;

/** Days the job must read before `asOf`, so every window and baseline is complete. */
export const DAYS_NEEDED = 30 + ANOMALY_BASELINE_DAYS;

/** Analyses each metric that has a value in the last 30 days, in the usual metric order. */
export function analyseDays(days: readonly DailyMetrics[], asOf: string): AnalyticsItem[] {
  return METRIC_NAMES.map((metric) => analyseMetric(days, metric, asOf)).filter(
    (item): item is AnalyticsItem => item !== undefined,
  );
}

/** Analyses one metric; undefined when it has no value in the last 30 days. */
export function analyseMetric(
  days: readonly DailyMetrics[],
  metric: MetricName,
  asOf: string,
): AnalyticsItem | undefined {
  const series = new Map<string, number>();
  for (const day of days) {
    const value = day[metric];
    if (value !== null) series.set(day.date, value);
  }
  const last7 = valuesBetween(series, addDays(asOf, -6), asOf);
  const last30 = valuesBetween(series, addDays(asOf, -29), asOf);
  if (last30.length === 0) return undefined;

  return {
    metric,
    asOf,
    average7: roundOrNull(mean(last7)),
    days7: last7.length,
    average30: roundOrNull(mean(last30)),
    days30: last30.length,
    trend: trendOf(series, asOf),
    anomalies: anomaliesOf(series, asOf),
  };
}

function trendOf(series: Map<string, number>, asOf: string): Trend {
  const start = addDays(asOf, -(TREND_DAYS - 1));
  const points = [...series]
    .filter(([date]) => date >= start && date <= asOf)
    .map(([date, y]) => ({ x: daysBetween(start, date), y }));
  const slope = points.length < TREND_MIN_DAYS ? undefined : leastSquaresSlope(points);
  if (slope === undefined) return { direction: 'unknown', slopePerDay: null, days: points.length };

  const change = slope * (TREND_DAYS - 1);
  const average = mean(points.map((point) => point.y)) ?? 0;
  const flat = Math.abs(change) <= FLAT_SHARE * Math.abs(average);
  const direction = flat ? 'flat' : change > 0 ? 'up' : 'down';

  return { direction, slopePerDay: round(slope, 3), days: points.length };
}

function anomaliesOf(series: Map<string, number>, asOf: string): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const first = addDays(asOf, -29);

  for (const [date, value] of [...series].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (date < first || date > asOf) continue;
    const baseline = valuesBetween(
      series,
      addDays(date, -ANOMALY_BASELINE_DAYS),
      addDays(date, -1),
    );
    const baselineMean = mean(baseline);
    const spread = standardDeviation(baseline);
    if (baseline.length < ANOMALY_MIN_BASELINE || baselineMean === undefined) continue;
    if (spread === undefined || spread === 0) continue;

    const zScore = (value - baselineMean) / spread;
    if (Math.abs(zScore) < ANOMALY_Z_THRESHOLD) continue;
    anomalies.push({
      date,
      value,
      zScore: round(zScore, 2),
      baselineMean: round(baselineMean, 2),
      baselineStandardDeviation: round(spread, 2),
    });
  }

  return anomalies;
}

function valuesBetween(series: Map<string, number>, from: string, to: string): number[] {
  return [...series].filter(([date]) => date >= from && date <= to).map(([, value]) => value);
}

function roundOrNull(value: number | undefined): number | null {
  return value === undefined ? null : round(value, 2);
}
