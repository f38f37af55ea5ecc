// Who may do what to a run: the role rules in src/domain/permissions.ts, with the runner's
// argument order. Refusals carry the domain's sentence (who may, and where that is configured).
import type { ShipbotConfig } from '../config.js';
import * as perms from '../domain/permissions.js';
import type { Actor, DeployPlan } from '../domain/types.js';

export type Permission = perms.Permission;

/** The runner has no channel: front ends check channels before they call `start`. */
export function mayDeploy(config: ShipbotConfig, actor: Actor, plan: Pick<DeployPlan, 'environment'>): Permission {
  return perms.mayDeploy(actor, null, plan.environment, config);
}

export function mayDecide(config: ShipbotConfig, actor: Actor, requester: Actor): Permission {
  return perms.mayDecide(actor, { requester }, config);
}

export function mayApprove(config: ShipbotConfig, actor: Actor, requester: Actor): Permission {
  return perms.mayApprove(actor, requester, config);
}

export function needsApproval(config: ShipbotConfig, plan: Pick<DeployPlan, 'risk' | 'environment'>): boolean {
  return perms.needsApproval(plan, config);
}
