// What front ends see of a run record, and where a service lives in an environment.
import type { ServiceConfig } from '../config.js';
import type { WorkloadRef } from '../cluster/types.js';
import type { RunView } from '../domain/run.js';
import type { Environment } from '../domain/types.js';
import type { RunRecord } from '../store/records.js';

export function defaultRef(service: ServiceConfig, environment: Environment): WorkloadRef | undefined {
  const env = service.environments[environment];
  if (!env) return undefined;
  const migration = env.migration ?? service.migration;
  return { ...env, serviceName: service.name, imageRepo: env.image ?? service.image, ...(migration ? { migration } : {}) };
}

export function toView(rec: RunRecord): RunView {
  const { request: _r, targets: _t, data: _d, dedupeKey: _k, ...view } = rec;
  return structuredClone(view);
}
