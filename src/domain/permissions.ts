// Who may do what, from shipbot.yml `roles` and `channels`. Principals are `*`, Slack user ids
// (`U123`) or user-group handles (`@oncall`, matched against actor.groups). Channels match by id
// (`C123`) or `#name`. Every refusal carries a reason the person can act on.
import type { ShipbotConfig } from './config-schema.js';
import type { Actor, DeployPlan, Environment } from './types.js';

export type Permission = { ok: true } | { ok: false; reason: string };

const allow: Permission = { ok: true };
const deny = (reason: string): Permission => ({ ok: false, reason });

function handle(s: string): string {
  return s.trim().replace(/^@/, '').toLowerCase();
}

/** Does the actor match any principal in the list? */
export function matchesPrincipal(actor: Actor, principals: readonly string[]): boolean {
  const groups = new Set((actor.groups ?? []).map(handle));
  return principals.some((p) => {
    const q = p.trim();
    if (q === '*') return true;
    if (q.startsWith('@')) return groups.has(handle(q));
    return q === actor.userId;
  });
}

function who(principals: readonly string[]): string {
  return principals.length === 0 ? 'nobody (none configured)' : principals.join(', ');
}

/** A Slack channel (id and, when known, name); `null` for the terminal, which has no channel. */
export type ChannelRef = { id: string; name?: string } | string | null;

function channelMatches(channel: Exclude<ChannelRef, null>, allowed: readonly string[]): boolean {
  const id = typeof channel === 'string' ? channel : channel.id;
  const name = typeof channel === 'string' ? undefined : channel.name;
  const names = new Set([id.toLowerCase(), ...(name ? [`#${name.replace(/^#/, '').toLowerCase()}`] : [])]);
  if (id.startsWith('#')) names.add(id.toLowerCase());
  return allowed.some((a) => a === '*' || names.has(a.trim().toLowerCase()));
}

export function mayDeploy(actor: Actor, channel: ChannelRef, environment: Environment, cfg: ShipbotConfig): Permission {
  if (!matchesPrincipal(actor, cfg.roles.deployers)) {
    return deny(`You are not allowed to deploy: only ${who(cfg.roles.deployers)} may (roles.deployers in shipbot.yml). Ask one of them.`);
  }
  if (channel !== null) {
    const allowed = cfg.channels.deploy[environment];
    if (!channelMatches(channel, allowed)) {
      return deny(
        `${environment} deploys are not accepted in this channel; use ${allowed.length ? allowed.join(', ') : 'none configured'} (channels.deploy.${environment} in shipbot.yml).`,
      );
    }
  }
  return allow;
}

/** Rollback / Accept / Investigate on a run: incident commanders, and the requester if configured. */
export function mayDecide(actor: Actor, run: { requester: Actor | string }, cfg: ShipbotConfig): Permission {
  if (matchesPrincipal(actor, cfg.roles.incidentCommanders)) return allow;
  const requester = typeof run.requester === 'string' ? run.requester : run.requester.userId;
  if (cfg.roles.requesterMayDecide && actor.userId === requester) return allow;
  const whoMay = cfg.roles.requesterMayDecide
    ? `the person who started it (<@${requester}>) or incident commanders (${who(cfg.roles.incidentCommanders)})`
    : `incident commanders (${who(cfg.roles.incidentCommanders)})`;
  return deny(`Only ${whoMay} may roll back or accept this run. Ask one of them.`);
}

/** A second person approves: an approver who is not the requester. */
export function mayApprove(actor: Actor, requester: Actor | string, cfg: ShipbotConfig): Permission {
  const requesterId = typeof requester === 'string' ? requester : requester.userId;
  if (actor.userId === requesterId) return deny('You started this deploy; a second person must approve it.');
  if (cfg.roles.approvers.length === 0)
    return deny('No approvers are configured (roles.approvers in shipbot.yml), so nobody can approve this deploy.');
  if (!matchesPrincipal(actor, cfg.roles.approvers)) {
    return deny(`Only approvers (${who(cfg.roles.approvers)}) may approve this deploy. Ask one of them.`);
  }
  return allow;
}

/** Production deploys at a risk level listed in `approvalRequiredFor` wait for a second person. */
export function needsApproval(plan: Pick<DeployPlan, 'risk' | 'environment'>, cfg: ShipbotConfig): boolean {
  return plan.environment === 'production' && cfg.approvalRequiredFor.includes(plan.risk);
}
