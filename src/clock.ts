// One notion of time for the sandbox and the runner, so tests and the demo can run
// monitoring windows and observation periods faster than real time (SHIPBOT_SPEED).

export interface Clock {
  /** Current time in ms since the epoch, on this clock. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with an AbortError when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** How many times faster than real time this clock runs. */
  readonly speed: number;
}

/**
 * Real time scaled by `speed`: at speed 60 a 5-minute window passes in 5 seconds. `startAt`
 * continues a clock that ran before (a restart), so time never goes back.
 */
export class ScaledClock implements Clock {
  private readonly realStart = Date.now();
  private readonly start: number;

  constructor(
    readonly speed = 1,
    startAt?: number,
  ) {
    if (!(speed > 0)) throw new Error(`clock speed must be positive, got ${speed}`);
    this.start = Math.max(this.realStart, startAt ?? 0);
  }

  now(): number {
    return this.start + (Date.now() - this.realStart) * this.speed;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? abortError());
      const timer = setTimeout(done, Math.max(0, ms / this.speed));
      function done() {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }
      function onAbort() {
        clearTimeout(timer);
        reject(signal?.reason ?? abortError());
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function abortError(): Error {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

export const realClock: Clock = new ScaledClock(1);

/**
 * The wall-clock moment a moment on `clock` was: what people read beside their own clocks and
 * Slack's message times (the demo clock runs `speed` times faster and ahead of the wall).
 */
export function wallTime(clock: Pick<Clock, 'now' | 'speed'>, moment: number): number {
  return Date.now() - (clock.now() - moment) / clock.speed;
}
