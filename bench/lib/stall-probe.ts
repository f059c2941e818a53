import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from './children.js';

const PROBE = fileURLToPath(new URL('../stall-probe.mjs', import.meta.url));

// A run that stalls this often is reported as such long before the list matters.
const MAX_STALLS_KEPT = 100_000;

interface Stall {
  readonly endedAt: number;
  readonly ms: number;
}

/**
 * A small process that notes every time the machine stood still (see stall-probe.mjs), so a
 * latency figure can be read beside what the machine did meanwhile: a virtual machine that
 * pauses for 60 ms puts 60 ms into every latency measured across the pause, whatever the
 * server does.
 */
export class StallProbe {
  readonly #child: ChildProcess;
  readonly #stalls: Stall[] = [];
  #running = true;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.once('exit', () => (this.#running = false));
    let pending = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.#note(line);
    });
  }

  /** Starts the probe process. */
  static start(): StallProbe {
    const child = spawn(process.execPath, [PROBE], { stdio: ['pipe', 'pipe', 'ignore'] });

    return new StallProbe(track(child));
  }

  /**
   * The longest stall overlapping the span from `from` to `to` (shared clock, ms): 0 if none,
   * NaN once the probe has stopped, when stalls are no longer known.
   */
  longestBetween(from: number, to: number): number {
    if (!this.#running) return NaN;
    let longest = 0;
    for (const stall of this.#stalls) {
      const overlaps = stall.endedAt >= from && stall.endedAt - stall.ms <= to;
      if (overlaps) longest = Math.max(longest, stall.ms);
    }

    return longest;
  }

  /** Ends the probe. */
  stop(): void {
    this.#child.stdin?.end();
    this.#child.kill();
  }

  #note(line: string): void {
    const [endedAt, ms] = line.split(' ').map(Number);
    if (!Number.isFinite(endedAt) || !Number.isFinite(ms)) return;
    if (this.#stalls.length >= MAX_STALLS_KEPT) this.#stalls.shift();

    this.#stalls.push({ endedAt: endedAt!, ms: ms! });
  }
}
