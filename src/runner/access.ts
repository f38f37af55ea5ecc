// Who may do what to a run, asked of the role rules in src/domain/permissions.ts.
// Kept as one small adapter so the runner reads `access.mayDecide(run, actor)`.
import type { ShipbotConfig } from '../config.js';
import type { Actor, DeployPlan } from '../domain/types.js';

function matches(principals: string[], actor: Actor): boolean {
  return principals.some((p) => p === '*' || p === actor.userId || (p.startsWith('@') && (actor.groups ?? []).includes(p)));
}

export function mayDeploy(config: ShipbotConfig, actor: Actor): boolean {
  return matches(config.roles.deployers, actor);
}

/** Rollback / Accept / Cancel / Pause / Resume / Promote: the requester (when allowed) or an incident commander. */
export function mayDecide(config: ShipbotConfig, actor: Actor, requester: Actor): boolean {
  if (config.roles.requesterMayDecide && actor.userId === requester.userId) return true;
  return matches(config.roles.incidentCommanders, actor);
}

/** A second person with the approver role; never the requester. */
export function mayApprove(config: ShipbotConfig, actor: Actor, requester: Actor): boolean {
  return actor.userId !== requester.userId && matches(config.roles.approvers, actor);
}

export function needsApproval(config: ShipbotConfig, plan: DeployPlan): boolean {
  return plan.environment === 'production' && config.approvalRequiredFor.includes(plan.risk);
}
