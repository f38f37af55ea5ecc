// One leader acts; every replica listens. Each replica serves Slack and records what people ask
// in the shared store; only the one holding the Lease (leader.ts) drives runs and touches
// clusters. Taking the lead, a replica first claims its term in the store (from then on an
// earlier term's write is refused), then takes up every run in flight, as after a restart, and
// carries out the commands other replicas queued. Losing it, it stops acting at once.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { CoordinationV1Api } from '@kubernetes/client-node';
import type { Actor } from '../domain/types.js';
import type { CommandResult, RunCommand } from '../domain/run.js';
import type { Logger } from '../log.js';
import type { Runner } from '../runner/runner.js';
import type { Store } from '../store/run-store.js';
import { type LeaseTiming, LeaderElector } from './leader.js';

export interface ReplicaOptions {
  store: Store;
  runner: Runner;
  log: Logger;
  lease: { api: CoordinationV1Api; namespace: string; name: string; identity: string; timing?: Partial<LeaseTiming>; now?: () => number };
  /** Real ms between looks at queued commands and runs to take up, while leading (default 500). */
  pollMs?: number;
  /** How long (real ms) a replica that does not lead waits for the leader's answer to a command (default: a lease duration and two retries). */
  answerWaitMs?: number;
  /** Leading began (start the scheduler, say). */
  onLead?: (term: number) => void;
  /** Leading ended: the runner has stopped acting; a process restarts to stand by cleanly. */
  onDemoted?: (term: number) => void;
}

/** A standby waits this long for the leader's answer: a takeover (15 s lease, 2 s retries) and a look at the queue. */
const ANSWER_WAIT_MS = 21_000;

export class Replica {
  readonly elector: LeaderElector;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private taking = false;
  private stopping = false;

  constructor(private readonly o: ReplicaOptions) {
    this.elector = new LeaderElector({
      ...o.lease,
      events: { started: (term) => void this.lead(term), stopped: (term) => void this.demote(term) },
      onError: (err) => o.log.warn({ err }, 'the leader Lease could not be read or written; trying again'),
    });
    o.store.fenceWith(() => this.elector.term);
  }

  get leading(): boolean {
    return this.elector.leading;
  }

  get term(): number {
    return this.elector.term;
  }

  start(): void {
    this.elector.start();
  }

  /** A graceful stop: stops acting, then gives the Lease up so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.ticking;
    await this.o.runner.shutdown();
    await this.elector.stop(true);
  }

  /**
   * A person's command, pressed on this replica: carried out here when it leads, otherwise
   * queued for the leader and its answer awaited (after a takeover, once the new leader leads).
   */
  async command(runId: string, cmd: RunCommand, actor: Actor, id: string): Promise<CommandResult> {
    if (this.leading) return this.o.runner.command(runId, cmd, actor);
    await this.o.store.queueCommand({ id, runId, cmd, actor, at: Date.now() });
    const until = Date.now() + (this.o.answerWaitMs ?? ANSWER_WAIT_MS);
    while (Date.now() < until) {
      const answer = await this.o.store.commandAnswer(id);
      if (answer) return answer;
      await new Promise((r) => setTimeout(r, 200));
    }
    return {
      ok: true,
      acted: false,
      message: `${cmd} is recorded; no Shipbot replica leads right now (one is taking over), and the next leader carries it out as soon as it leads`,
    };
  }

  private async lead(term: number): Promise<void> {
    const { store, runner, log } = this.o;
    try {
      await store.claimTerm();
      const resumed = await runner.resumeInFlight(`Shipbot's leader changed (term ${term})`);
      for (const r of resumed) log.info({ runId: r.runId, action: r.action, term }, `took up run: ${r.note}`);
    } catch (err) {
      log.error({ err, term }, 'could not take up the runs in flight on taking the lead');
    }
    if (!this.leading || this.stopping) return; // lost again while taking the runs up: demote() has it
    log.info({ term }, 'leading: this replica drives runs');
    this.o.onLead?.(term);
    this.timer = setInterval(() => {
      if (!this.taking) this.ticking = this.tick(term);
    }, this.o.pollMs ?? 500);
  }

  /** Commands other replicas queued, then runs a standby recorded: carried out by the leader. */
  private async tick(term: number): Promise<void> {
    const { store, runner, log } = this.o;
    this.taking = true;
    try {
      if (!this.leading) return;
      for (const c of await store.takeCommands(term)) {
        const answer = await runner.command(c.runId, c.cmd, c.actor).catch(
          (err: unknown): CommandResult => ({
            ok: false,
            reason: 'invalid-state',
            message: `${c.cmd} failed inside Shipbot: ${(err as Error).message}`,
          }),
        );
        await store.answerCommand(c.id, answer);
      }
      await runner.resumeInFlight(`Shipbot's leader changed (term ${term})`);
    } catch (err) {
      log.warn({ err, term }, 'carrying out queued commands failed; trying again');
    } finally {
      this.taking = false;
    }
  }

  private async demote(term: number): Promise<void> {
    clearInterval(this.timer);
    if (this.stopping) return; // a graceful stop: the runner is already shut down
    this.o.log.error({ term }, 'this replica no longer leads: it stops acting (its cluster and store writes are refused from now on)');
    await this.o.runner.close();
    this.o.onDemoted?.(term);
  }
}

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** Where the Lease lives and who this replica is: the pod's namespace and name (the Downward API's POD_NAMESPACE, HOSTNAME). */
export function leaseIdentity(env: NodeJS.ProcessEnv): { namespace: string; identity: string } {
  const namespace =
    env.POD_NAMESPACE ?? (existsSync(SERVICE_ACCOUNT_NAMESPACE) ? readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() : 'default');
  // A suffix of its own: a restarted pod with the same name is a new candidate, not the old holder.
  return { namespace, identity: `${env.HOSTNAME ?? hostname()}-${randomBytes(3).toString('hex')}` };
}
