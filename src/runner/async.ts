// Promise plumbing of the loop: a resolvable promise, racing an abort, and calling a listener
// that must never stop a deployment.

/** A promise with its resolve, e.g. the skip a Promote press resolves. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Calls a listener; one that throws never stops a deployment. */
export function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // A front end's listener failing must never stop a deployment.
  }
}

/** Rejects as soon as `signal` aborts, even if `p` is still waiting on something slow. */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
