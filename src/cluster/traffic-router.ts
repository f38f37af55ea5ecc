// Exact canary weights through the team's route: a Gateway API HTTPRoute or an Istio
// VirtualService named in `environments.<env>.trafficRouting`. Each change is one JSON merge
// patch of the route, conditional on the resourceVersion read just before (a concurrent edit
// is re-read, never overwritten), and sent only when something differs, so every call is
// idempotent and a run resumed between two writes simply writes the one it had not.
// Shaped like Argo Rollouts' traffic-router plugins (SetWeight, VerifyWeight, RemoveManagedRoutes).
import type { CustomObject } from './api.js';
import type { DriverContext } from './common.js';
import { isNotFound, RouteError } from './errors.js';
import {
  acceptance,
  HOLD_LABEL,
  originalWeights,
  ROUTE_RESOURCES,
  splitPlan,
  withCanaryWeight,
  type RouterKind,
  type SplitTarget,
} from './route-split.js';
import { versionLabel } from './rules.js';
import type { PreflightCheck, WorkloadRef } from './types.js';
import type { RouterState } from './rollout-state.js';

export type { RouterState } from './rollout-state.js';

/** The route configured for this environment, if any. */
export function configuredRoute(ref: WorkloadRef): { kind: RouterKind; name: string; routes?: string[] } | undefined {
  const r = ref.trafficRouting;
  if (!r) return undefined;
  if ('gatewayAPI' in r) return { kind: 'HTTPRoute', name: r.gatewayAPI.httpRoute };
  return { kind: 'VirtualService', name: r.istio.virtualService, routes: r.istio.routes };
}

/** How long a gateway may take to accept a change (clock ms). */
const ACCEPT_TIMEOUT_MS = 60_000;

export class TrafficRouter {
  readonly target: SplitTarget;

  constructor(
    private readonly ctx: DriverContext,
    private readonly ref: WorkloadRef,
    readonly route: { kind: RouterKind; name: string; routes?: string[] },
    canaryService: string,
  ) {
    this.target = { kind: route.kind, namespace: ref.namespace, stable: ref.service, canary: canaryService, routes: route.routes };
  }

  get title(): string {
    return `${this.route.kind} ${this.route.name}`;
  }

  private get resource() {
    return ROUTE_RESOURCES[this.route.kind];
  }

  /** Preflight: the route exists and every rule to the stable Service can be split. */
  async check(steps: readonly number[]): Promise<PreflightCheck> {
    const route = await this.ctx.api.findCustom(this.resource, this.ref.namespace, this.route.name).catch((err: Error) => err);
    const fail = (detail: string): PreflightCheck => ({ name: 'traffic routing', ok: false, severity: 'error', detail });
    if (route instanceof Error) return fail(`cannot read ${this.title} in ${this.ref.namespace}: ${route.message}`);
    if (!route)
      return fail(
        `${this.title} not found in ${this.ref.namespace}: create it, or remove trafficRouting from environments.${this.ref.namespace} in the config`,
      );
    const plan = splitPlan(this.target, route.spec, this.route.name);
    if (plan.problems.length) return fail(plan.problems.join('; '));
    const first = steps.find((p) => p < 100) ?? 0;
    const rules = plan.rules.length === 1 ? '1 rule' : `${plan.rules.length} rules`;
    return {
      name: 'traffic routing',
      ok: true,
      severity: 'error',
      detail: `${this.title} splits ${rules} to ${this.ref.service}: exact weights at every step (${first}% is ${100 - first}/${first})`,
    };
  }

  /** Takes the route: the canary Service beside the stable one at weight 0, and the hold label. */
  async hold(version: string): Promise<RouterState> {
    const route = await this.read();
    const held = route.metadata.labels?.[HOLD_LABEL] !== undefined;
    // A route still held (this run resumed, or one that crashed) keeps the weights it had first.
    const original = originalWeights(this.target, route.spec, this.route.name);
    await this.write(0, versionLabel(version));
    this.ctx.log?.info({ route: this.title, namespace: this.ref.namespace, held }, 'holding route for the canary');
    return { kind: this.route.kind, name: this.route.name, routes: this.route.routes, original };
  }

  /** The canary at exactly `pct` percent of the route's traffic; waits for the gateway to accept it. */
  async setWeight(state: RouterState, pct: number, version: string): Promise<void> {
    await this.write(pct, versionLabel(version), state.original);
  }

  /**
   * The canary at weight 0 and the hold label gone, in one write: rollback's traffic switch
   * and promotion's last step. Waits for acceptance, but a slow gateway does not stop a rollback.
   */
  async release(state: RouterState): Promise<void> {
    await this.write(0, null, state.original, { mustAccept: false });
  }

  private async read(): Promise<CustomObject> {
    try {
      return await this.ctx.api.getCustom(this.resource, this.ref.namespace, this.route.name);
    } catch (err) {
      if (isNotFound(err))
        throw new RouteError(
          `${this.title} is gone from ${this.ref.namespace}: the canary's traffic cannot be set. Restore the route, then roll back or retry.`,
        );
      throw err;
    }
  }

  private async write(
    pct: number,
    hold: string | null,
    original?: ReadonlyArray<number | null>,
    opts = { mustAccept: true },
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const route = await this.read();
      const spec = route.spec ?? {};
      const want = withCanaryWeight(
        this.target,
        spec,
        this.route.name,
        pct,
        original ?? originalWeights(this.target, spec, this.route.name),
      );
      const key = this.route.kind === 'HTTPRoute' ? 'rules' : 'http';
      const labelNow = route.metadata.labels?.[HOLD_LABEL] ?? null;
      if (JSON.stringify(want[key]) === JSON.stringify(spec[key]) && labelNow === hold) return this.awaitAccepted(route, opts.mustAccept);
      try {
        const patched = await this.ctx.api.mergeCustom(this.resource, this.ref.namespace, this.route.name, {
          metadata: { resourceVersion: route.metadata.resourceVersion, labels: { [HOLD_LABEL]: hold } },
          spec: { [key]: want[key] },
        });
        this.ctx.log?.info({ route: this.title, namespace: this.ref.namespace, canaryPct: pct }, 'set route weights');
        return this.awaitAccepted(patched, opts.mustAccept);
      } catch (err) {
        // Someone else wrote the route between the read and the patch: read again (bounded).
        if ((err as { status?: number }).status === 409 && attempt < 4) continue;
        throw err;
      }
    }
  }

  private async awaitAccepted(route: CustomObject, mustAccept: boolean): Promise<void> {
    const generation = route.metadata.generation ?? 0;
    const deadline = this.ctx.clock.now() + ACCEPT_TIMEOUT_MS;
    let current = route;
    for (;;) {
      const a = acceptance(current, generation);
      if (a.state === 'accepted' || a.state === 'unreported') return;
      if (a.state === 'rejected' && mustAccept) throw new RouteError(`${this.title} was not accepted: ${a.detail}`);
      if (a.state === 'rejected' || this.ctx.clock.now() >= deadline) {
        const why = a.state === 'rejected' ? a.detail : `generation ${generation} not accepted after ${ACCEPT_TIMEOUT_MS / 1000} s`;
        if (mustAccept) throw new RouteError(`${this.title}: ${why}. Check the gateway, then roll back or retry.`);
        this.ctx.log?.warn({ route: this.title, why }, 'route change not confirmed by the gateway');
        return;
      }
      await this.ctx.clock.sleep(Math.min(this.ctx.pollMs, 500));
      current = await this.read();
    }
  }
}
