// Leader election among Shipbot replicas through a coordination.k8s.io Lease, as client-go's
// leaderelection package does it (tools/leaderelection/leaderelection.go): the holder renews
// every retry period; another replica takes the Lease only once it has seen the same record,
// unrenewed, for a whole lease duration by its own clock (never by the holder's timestamps, so
// clock skew cannot hand the Lease over early); the holder stops leading when it could not renew
// within the renew deadline, which is shorter than the lease duration, so it has stopped before
// anyone can take over. Every acquisition raises `leaseTransitions`: that number is the term, the
// fencing token every write of run state carries (client-go's docs warn that election alone does
// not fence: two processes can briefly both believe they lead).
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { V1MicroTime } from '@kubernetes/client-node';

export interface LeaseTiming {
  /** How long a Lease unrenewed stays the holder's (client-go default 15 s). */
  leaseDurationMs: number;
  /** The holder stops leading when it could not renew for this long (default 10 s). */
  renewDeadlineMs: number;
  /** How often the holder renews and a standby tries (default 2 s). */
  retryPeriodMs: number;
}

export const DEFAULT_TIMING: LeaseTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** What a replica saw of the Lease, and when (by its own monotonic clock). */
export interface Observed {
  holder?: string;
  renewTime?: string;
  acquireTime?: string;
  transitions: number;
  resourceVersion?: string;
  /** When this replica first saw this holder and renewTime (ms, its own clock). */
  seenAt: number;
}

export type Move = 'create' | 'acquire' | 'renew' | 'wait';

/** What to do with the Lease now. Pure. */
export function nextMove(observed: Observed | undefined, me: string, leading: boolean, now: number, t: LeaseTiming): Move {
  if (!observed) return 'create';
  if (observed.holder === me && leading) return 'renew';
  // Released (no holder), or unrenewed for a whole lease duration as this replica has watched it.
  if (!observed.holder || now - observed.seenAt >= t.leaseDurationMs) return 'acquire';
  // Our own name on a Lease we did not know we held (a restart with the same identity): take it anew.
  if (observed.holder === me) return 'acquire';
  return 'wait';
}

export interface LeaderEvents {
  /** This replica now leads, for `term`. */
  started?(term: number): void;
  /** This replica no longer leads (`term` ended): stop acting before anything else. */
  stopped?(term: number): void;
}

export interface ElectorOptions {
  api: CoordinationV1Api;
  namespace: string;
  /** The Lease's name (`shipbot-leader`). */
  name: string;
  /** Unique per process: pod name and a random suffix. */
  identity: string;
  timing?: Partial<LeaseTiming>;
  events?: LeaderEvents;
  /** Monotonic ms; tests move it. */
  now?: () => number;
  onError?: (err: unknown) => void;
}

export class LeaderElector {
  private readonly t: LeaseTiming;
  private readonly now: () => number;
  private observed?: Observed;
  private lastRenew = Number.NEGATIVE_INFINITY;
  private currentTerm = 0;
  private wasLeading = false;
  private timer?: NodeJS.Timeout;
  private inflight?: Promise<void>;
  private stopping = false;

  constructor(private readonly o: ElectorOptions) {
    this.t = { ...DEFAULT_TIMING, ...o.timing };
    if (this.t.renewDeadlineMs >= this.t.leaseDurationMs) throw new Error('the renew deadline must be shorter than the lease duration');
    this.now = o.now ?? (() => performance.now());
  }

  /**
   * Whether this replica leads now: it renewed within the renew deadline. Checked before every
   * write, so a process that was paused past its Lease wakes up not leading.
   */
  get leading(): boolean {
    return this.now() - this.lastRenew < this.t.renewDeadlineMs;
  }

  /** The term this replica leads (or last led); 0 before it ever led. */
  get term(): number {
    return this.currentTerm;
  }

  start(): void {
    this.stopping = false;
    this.inflight = this.tick();
  }

  /** Stops trying; a leader gives the Lease up (`release`) so a standby takes over at once. */
  async stop(release = true): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    // A turn in flight may still renew: wait for it, so the release below is the last write.
    await this.inflight;
    const led = this.leading;
    this.lastRenew = Number.NEGATIVE_INFINITY;
    this.settle();
    if (!release || !led) return;
    try {
      await this.observe();
      if (this.observed?.holder === this.o.identity) await this.write('release');
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.observe();
      const move = nextMove(this.observed, this.o.identity, this.leading, this.now(), this.t);
      if (move !== 'wait') await this.write(move);
    } catch (err) {
      // A conflict is another replica's write: read again next turn. Anything else: keep trying.
      if (statusOf(err) !== 409) this.o.onError?.(err);
    }
    this.settle();
    if (!this.stopping) this.timer = setTimeout(() => (this.inflight = this.tick()), this.t.retryPeriodMs);
  }

  /** Tells the events when leading began or ended (time alone can end it). */
  private settle(): void {
    const leading = this.leading;
    if (leading && !this.wasLeading) this.o.events?.started?.(this.currentTerm);
    if (!leading && this.wasLeading) this.o.events?.stopped?.(this.currentTerm);
    this.wasLeading = leading;
  }

  private async observe(): Promise<void> {
    let lease: V1Lease | undefined;
    try {
      lease = await this.o.api.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    this.observed = lease ? this.seen(lease) : undefined;
  }

  /** The record as seen now; `seenAt` moves only when holder or renewTime changed. */
  private seen(lease: V1Lease): Observed {
    const holder = lease.spec?.holderIdentity ?? undefined;
    const renewTime = lease.spec?.renewTime ? new Date(lease.spec.renewTime).toISOString() : undefined;
    const before = this.observed;
    const same = before && before.holder === holder && before.renewTime === renewTime;
    return {
      holder,
      renewTime,
      acquireTime: lease.spec?.acquireTime ? new Date(lease.spec.acquireTime).toISOString() : undefined,
      transitions: lease.spec?.leaseTransitions ?? 0,
      resourceVersion: lease.metadata?.resourceVersion,
      seenAt: same ? before.seenAt : this.now(),
    };
  }

  private async write(move: Exclude<Move, 'wait'> | 'release'): Promise<void> {
    const at = new V1MicroTime(Date.now());
    const startedAt = this.now();
    const transitions = this.observed?.transitions ?? 0;
    const term = move === 'create' ? 1 : move === 'acquire' ? transitions + 1 : transitions;
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.o.name, namespace: this.o.namespace, resourceVersion: this.observed?.resourceVersion },
      spec: {
        holderIdentity: move === 'release' ? undefined : this.o.identity,
        leaseDurationSeconds: Math.ceil(this.t.leaseDurationMs / 1000),
        leaseTransitions: term,
        renewTime: move === 'release' ? undefined : at,
        acquireTime: move === 'renew' && this.observed?.acquireTime ? new V1MicroTime(this.observed.acquireTime) : at,
      },
    };
    const written =
      move === 'create'
        ? // Another replica may create it first: a 409, read again next turn.
          await this.o.api.createNamespacedLease({ namespace: this.o.namespace, body })
        : await this.o.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body });
    this.observed = this.seen(written);
    if (move === 'release') return;
    // Leading counts from when the write was sent: the Lease's duration runs from then for others.
    this.lastRenew = startedAt;
    this.currentTerm = term;
  }
}

/** The HTTP status of a client-node ApiException. */
function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}
