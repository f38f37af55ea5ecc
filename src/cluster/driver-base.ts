// What every strategy driver shares: its context, the preflight of the stable Deployment, and
// finding the pods production serves now. Strategies extend it and add their own steps.
import { driverContext, liveTrackOf, type DriverContext, type DriverDeps } from './common.js';
import { preflightChecks } from './health.js';
import type { PreflightCheck, TrackRef, WorkloadRef } from './types.js';

export abstract class KubeDriver {
  protected readonly ctx: DriverContext;

  constructor(deps: DriverDeps) {
    this.ctx = driverContext(deps);
  }

  preflight(ref: WorkloadRef, version: string): Promise<PreflightCheck[]> {
    return preflightChecks(this.ctx, ref, version, ref.deployment);
  }

  liveTrack(ref: WorkloadRef): Promise<TrackRef> {
    return liveTrackOf(this.ctx, ref);
  }

  liveBaseUrl(ref: WorkloadRef): string {
    return this.ctx.api.serviceProxyUrl(ref.namespace, ref.service);
  }
}
