// What the Slack front end needs from the rest of Shipbot. The runner is the only way to the
// cluster; the LLM helpers are optional (without them the deterministic paths are used).
import type { EnvConfig, ShipbotConfig } from '../config.js';
import type { Actor, Environment } from '../domain/types.js';
import type { Llm } from '../llm/index.js';
import type { Logger } from '../log.js';
import type { Scheduling } from '../schedule/index.js';
import type { SeenStore } from './dedupe.js';
import type { CommandResult, Diagnostics, RunCommand, RunEvent, RunView, StartInput, StartResult } from '../domain/run.js';
import type { LockRecord } from '../store/records.js';

/** The runner methods Slack uses (src/runner/runner.ts implements them). */
export interface SlackRunner {
  start(input: StartInput): Promise<StartResult>;
  command(runId: string, cmd: RunCommand, actor: Actor): Promise<CommandResult>;
  get(runId: string): Promise<RunView | undefined>;
  list(): Promise<RunView[]>;
  /** Every lock held now (a run's own, a person's, one kept after a rollback). */
  locks(): Promise<LockRecord[]>;
  /** The wall-clock moment a moment of the runner's clock was (a lock's `since`). */
  wallTime(moment: number): number;
  subscribe(listener: (ev: RunEvent) => void): () => void;
  lock(service: string, environment: Environment, actor: Actor, reason: string): Promise<{ ok: boolean; message: string }>;
  unlock(
    service: string,
    environment: Environment,
    actor: Actor,
    reason?: string,
    keptBy?: string,
  ): Promise<{ ok: boolean; acted?: boolean; message: string }>;
  investigate(runId: string, actor: Actor): Promise<Diagnostics>;
  stopAll(actor: Actor, reason: string): Promise<{ ok: boolean; acted: boolean; message: string }>;
  resumeAll(actor: Actor): Promise<{ ok: boolean; acted: boolean; message: string }>;
}

/** Optional Claude helpers (src/llm); each answers with a rule-based result when Claude can't. */
export type SlackLlm = Partial<Pick<Llm, 'enabled' | 'understand' | 'adjustPlan' | 'investigate'>>;

export interface SlackAppDeps {
  env: EnvConfig;
  config: ShipbotConfig;
  runner: SlackRunner;
  logger: Logger;
  /** Wall clock for parsing (`at 02:00`); defaults to the real time. */
  now?: () => Date;
  llm?: SlackLlm;
  /** Scheduled deploys (src/schedule `schedulingFor`); without it a request with a time offers Start now only. */
  scheduling?: Scheduling;
  /** Keeps handled event ids across restarts (the store); without it they are kept in memory. */
  seen?: SeenStore;
  /** How many times faster than real time the runner's clock runs (local mode's demo clock); durations people read are wall-clock. */
  clockSpeed?: number;
}
