// The sandbox's cluster outlives the process, as a real cluster outlives Shipbot: its objects,
// resourceVersion and clock are written to one JSON file (atomically, a moment after each
// change, and at close) and loaded at the next start. Traffic history is not kept: a restored
// sandbox starts its metrics from the pods it has (a warm start fills a few minutes back).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock.js';
import type { KObject } from './objects.js';
import type { ObjectStore } from './store.js';

export interface SandboxState {
  version: 1;
  /** The sandbox clock when saved, and the real time then: a restart continues from there. */
  clockAt: number;
  savedAt: number;
  rv: number;
  objects: Record<string, KObject[]>;
}

/** The saved state in `file`, or undefined when there is none; a damaged file is an error that says so. */
export function readSandboxState(file: string): SandboxState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const s = JSON.parse(text) as SandboxState;
    if (s.version !== 1 || typeof s.clockAt !== 'number' || typeof s.rv !== 'number' || typeof s.objects !== 'object')
      throw new Error('not a sandbox state');
    return s;
  } catch (err) {
    throw new Error(`${file} is not a saved sandbox cluster (${(err as Error).message}): move it away to start a fresh one.`);
  }
}

/** Where the clock of a restarted sandbox resumes: the saved moment plus the real time since. */
export function resumedClockAt(state: SandboxState | undefined, now = Date.now()): number | undefined {
  return state ? state.clockAt + Math.max(0, now - state.savedAt) : undefined;
}

/** Saves the store to `file` shortly after each change (at most every `everyMs` real ms) and on flush(). */
export function persistStore(store: ObjectStore, clock: Clock, file: string, everyMs = 200): { flush(): void; stop(): void } {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let timer: NodeJS.Timeout | undefined;
  const write = () => {
    timer = undefined;
    const snap = store.snapshot();
    const state: SandboxState = { version: 1, clockAt: clock.now(), savedAt: Date.now(), rv: snap.rv, objects: snap.objects };
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, file);
  };
  const off = store.onChange((c) => {
    if (c.def.kind === 'Event' || timer) return;
    timer = setTimeout(write, everyMs);
    timer.unref();
  });
  return {
    flush() {
      if (timer) clearTimeout(timer);
      write();
    },
    stop() {
      off();
      if (timer) clearTimeout(timer);
    },
  };
}
