import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();

/** Remembers a child process so that it is killed, by its pid, whenever the coordinator ends. */
export function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));

  return child;
}

/** Kills every tracked child that is still running. */
export function killAll(): void {
  for (const child of running) {
    if (child.pid === undefined || child.exitCode !== null) continue;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // It exited between the check and the kill.
    }
  }
  running.clear();
}

/** Makes sure no child outlives the coordinator, however it ends. */
export function killChildrenOnExit(): void {
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}
