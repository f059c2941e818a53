import type { Logger } from '../log.js';
import type { AnalyticsRunSummary } from './analytics-job.js';

/** A periodic analytics run inside the service. */
export interface AnalyticsSchedule {
  /** Stops the timer, asks a run in progress to stop after its current user, and waits. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every `intervalMs` (ANALYTICS_INTERVAL_MS), never two at once: a run that takes
 * longer than the interval makes the next tick skip.
 */
export function scheduleAnalytics(
  intervalMs: number,
  run: (signal: AbortSignal) => Promise<AnalyticsRunSummary>,
  logger: Logger,
): AnalyticsSchedule {
  let running: Promise<void> | undefined;
  const abort = new AbortController();

  const tick = () => {
    if (running) return;
    running = run(abort.signal)
      .then(
        (summary) => logger.info({ ...summary }, 'analytics run finished'),
        (error: unknown) => logger.error({ err: error }, 'analytics run failed'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}
