// One interface for every metric source (Prometheus, the sandbox's direct API); the runner
// never knows which it has. Failures are distinct outcomes, never a silent pass.
import type { MetricSample } from '../domain/types.js';
import type { TrackRef } from '../domain/types.js';

export type MetricFailure =
  | { ok: false; kind: 'timeout'; message: string }
  | { ok: false; kind: 'http-error'; status: number; message: string }
  | { ok: false; kind: 'query-error'; message: string }
  | { ok: false; kind: 'no-data'; message: string };

export type MetricOutcome = { ok: true; sample: MetricSample } | MetricFailure;

/** One number from a team's query template, with the query as sent. */
export type QueryOutcome = ({ ok: true; value: number } | MetricFailure) & { query: string };

export interface MetricSource {
  readonly name: string;
  /** Aggregates the pods of `track` over the last `windowSec` seconds (of the source's clock). */
  sample(track: TrackRef, windowSec: number): Promise<MetricOutcome>;
  /**
   * Optional: the same for a window that ended at `endAt` (ms, the source's time), now or in the
   * past, and only if the track's series covers the whole window (else `no-data`): a baseline
   * must not average in a series' first, partial windows. Sources with history (Prometheus)
   * implement it, so a baseline is captured at once instead of waiting for fresh samples.
   */
  sampleAt?(track: TrackRef, windowSec: number, endAt: number): Promise<MetricOutcome>;
  /**
   * Optional, for sources whose interval samples overlap (a Prometheus range is never shorter
   * than 4 scrapes, so summing them smears counts): the track over the whole `elapsedSec` that
   * just ended, read as one, whose counts the judge then tests. A source whose samples are
   * exact per interval (the sandbox's) leaves it out: their sum is the same count.
   */
  sampleWhole?(track: TrackRef, elapsedSec: number): Promise<MetricOutcome>;
  /**
   * Optional, for sources that speak PromQL: one number from a team's template (`services[].gates`)
   * for `track`, `{{window}}` = `windowSec`, evaluated at `atMs` (wall clock; now when omitted).
   */
  readQuery?(template: string, track: TrackRef, windowSec: number, atMs?: number): Promise<QueryOutcome>;
  /** The templates behind a service's numbers, by metric (a report shows them); undefined for a source without queries. */
  queriesFor?(service: string): Readonly<Record<string, string>>;
}
