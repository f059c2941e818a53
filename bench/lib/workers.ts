import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from './children.js';
import type { Command, Envelope, Report } from './protocol.js';

type Pending = { resolve: (report: Report) => void; reject: (error: Error) => void };

/** A forked load-tool process that answers commands over IPC. */
export class Worker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;

  constructor(script: 'client-worker' | 'emitter-worker') {
    const path = fileURLToPath(new URL(`./${script}.ts`, import.meta.url));
    this.#child = track(
      fork(path, [], {
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    this.#child.on('message', (message: Envelope<Report>) => this.#settle(message));
    this.#child.once('exit', (code, signal) => {
      const error = new Error(`${script} exited (code ${code}, signal ${signal})`);
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    });
  }

  /** The process id, for reading its CPU time. */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** Sends a command and resolves with the answer of the kind asked for. */
  call<K extends Report['kind']>(
    command: Command,
    expected: K,
    timeoutMs: number,
  ): Promise<Extract<Report, { kind: K }>> {
    const id = this.#nextId++;

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${command.kind} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (report) => {
          clearTimeout(timer);
          if (report.kind === expected) resolve(report as Extract<Report, { kind: K }>);
          else reject(new Error(report.kind === 'error' ? report.message : report.kind));
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#child.send({ id, body: command } satisfies Envelope<Command>);
    });
  }

  /** Ends the process: it exits when its IPC channel closes. */
  stop(): void {
    if (this.#child.connected) this.#child.disconnect();
  }

  #settle(message: Envelope<Report>): void {
    const pending = this.#pending.get(message.id);
    this.#pending.delete(message.id);
    pending?.resolve(message.body);
  }
}
