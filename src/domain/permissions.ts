// Who may do what, from shipbot.yml `roles` and `channels`. Principals are `*`, Slack user ids
// (`U123`) or user-group handles (`@oncall`, matched against actor.groups). Channels match by id
// (`C123`) or `#name`. Every refusal carries a reason the person can act on.
// Closed by default: a config without `roles` allows staging deploys only, and `*` never covers a
// guest or a user of another workspace for a production action: the config must name them.
import type { ShipbotConfig } from './config-schema.js';
import { labelId, labelName } from './text.js';
import type { Actor, DeployPlan, Environment } from './types.js';

export type Permission = { ok: true } | { ok: false; reason: string };

const allow: Permission = { ok: true };
const deny = (reason: string): Permission => ({ ok: false, reason });

function handle(s: string): string {
  return s.trim().replace(/^@/, '').toLowerCase();
}

/**
 * Does the actor match any principal in the list? `*` covers members only unless `everyone` is
 * set (staging): outsiders match only where they are named.
 */
export function matchesPrincipal(actor: Actor, principals: readonly string[], everyone = false): boolean {
  const groups = new Set((actor.groups ?? []).map(handle));
  return principals.some((p) => {
    const q = p.trim();
    if (q === '*') return everyone || !actor.outsider;
    if (q.startsWith('@')) return groups.has(handle(q));
    return q === actor.userId;
  });
}

/** The principals as Slack shows people: a user id as a mention (their name), a group by its handle. */
function who(principals: readonly string[]): string {
  if (principals.length === 0) return 'nobody (none configured)';
  return principals.map((p) => (p === '*' ? 'everyone' : p.startsWith('@') ? p : `<@${p}>`)).join(', ');
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

export const NO_ROLES =
  "No roles are configured (roles in shipbot.yml), so Shipbot allows staging deploys only: production deploys, locks and rollbacks of other people's runs need roles.deployers and roles.incidentCommanders.";

const OUTSIDER: Record<NonNullable<Actor['outsider']>, string> = {
  guest: 'guests',
  external: 'people from another workspace',
  unknown: 'people Slack could not describe just now',
};

export function mayDeploy(actor: Actor, channel: ChannelRef, environment: Environment, cfg: ShipbotConfig): Permission {
  const production = environment === 'production';
  if (!cfg.roles && production) return deny(NO_ROLES);
  const deployers = cfg.roles?.deployers ?? ['*'];
  if (!matchesPrincipal(actor, deployers, !production)) {
    if (actor.outsider && matchesPrincipal(actor, deployers, true))
      return deny(`${OUTSIDER[actor.outsider]} may deploy to production only when roles.deployers names them. Ask a member of the team.`);
    return deny(`You are not allowed to deploy: only ${who(deployers)} may (roles.deployers in shipbot.yml). Ask one of them.`);
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

/** Locking an environment stops its deploys: it needs the deploy role there (any channel). */
export function mayLock(actor: Actor, environment: Environment, cfg: ShipbotConfig): Permission {
  const may = mayDeploy(actor, null, environment, cfg);
  return may.ok ? may : deny(may.reason.replace('You are not allowed to deploy', 'You may not lock'));
}

export function isIncidentCommander(actor: Actor, cfg: ShipbotConfig): boolean {
  return matchesPrincipal(actor, cfg.roles?.incidentCommanders ?? []);
}

/**
 * One rule for lifting a lock, typed or pressed: incident commanders always; the person who set a
 * manual lock. A lock a run kept after a rollback or a safe stop waits for someone to check the
 * service: in production that is an incident commander, in staging also the run's requester.
 */
export function mayUnlock(
  actor: Actor,
  lock: { holder: string; kind: 'run' | 'manual' | 'held'; environment: Environment },
  requester: string | undefined,
  cfg: ShipbotConfig,
): Permission {
  if (isIncidentCommander(actor, cfg)) return allow;
  const production = lock.environment === 'production';
  if (lock.kind === 'manual' && labelId(lock.holder) === actor.userId && (!production || (cfg.roles && !actor.outsider))) return allow;
  if (lock.kind === 'held' && !production && requester === actor.userId) return allow;
  if (!cfg.roles && production) return deny(NO_ROLES);
  const ics = `an incident commander (${who(cfg.roles?.incidentCommanders ?? [])})`;
  const by = lock.kind === 'manual' ? `${labelName(lock.holder)}, who locked it, or ${ics}` : ics;
  return deny(`Only ${by} may unlock it${lock.kind === 'held' ? ', once the service is checked' : ''}. Ask them.`);
}

/** Rollback / Accept / Investigate on a run: incident commanders, and the requester if configured. */
export function mayDecide(actor: Actor, run: { requester: Actor | string; environment?: Environment }, cfg: ShipbotConfig): Permission {
  if (isIncidentCommander(actor, cfg)) return allow;
  const requester = typeof run.requester === 'string' ? run.requester : run.requester.userId;
  const requesterMayDecide = cfg.roles?.requesterMayDecide ?? true;
  if (requesterMayDecide && actor.userId === requester) return allow;
  const ics = cfg.roles?.incidentCommanders ?? [];
  const whoMay = requesterMayDecide
    ? `the person who started it (<@${requester}>) or incident commanders (${who(ics)})`
    : `incident commanders (${who(ics)})`;
  return deny(`Only ${whoMay} may roll back or accept this run. Ask one of them.${cfg.roles ? '' : ` ${NO_ROLES}`}`);
}

/**
 * Accepting a regression is a decision a second person shares when the run needed one to start:
 * the requester who was approved cannot wave its own regression through.
 */
export function mayAccept(actor: Actor, run: { requester: Actor | string; approved: boolean }, cfg: ShipbotConfig): Permission {
  const may = mayDecide(actor, run, cfg);
  if (!may.ok) return may;
  const requester = typeof run.requester === 'string' ? run.requester : run.requester.userId;
  if (run.approved && actor.userId === requester)
    return deny('This deploy needed a second person to start, so someone other than you must accept a regression (an incident commander).');
  return allow;
}

/** A second person approves: an approver who is not the requester. */
export function mayApprove(actor: Actor, requester: Actor | string, cfg: ShipbotConfig): Permission {
  const requesterId = typeof requester === 'string' ? requester : requester.userId;
  if (actor.userId === requesterId) return deny('You started this deploy; a second person must approve it.');
  const approvers = cfg.roles?.approvers ?? [];
  if (approvers.length === 0)
    return deny('No approvers are configured (roles.approvers in shipbot.yml), so nobody can approve this deploy.');
  if (!matchesPrincipal(actor, approvers)) {
    return deny(`Only approvers (${who(approvers)}) may approve this deploy. Ask one of them.`);
  }
  return allow;
}

/** Production deploys at a risk level listed in `approvalRequiredFor` wait for a second person. */
export function needsApproval(plan: Pick<DeployPlan, 'risk' | 'environment'>, cfg: ShipbotConfig): boolean {
  return plan.environment === 'production' && cfg.approvalRequiredFor.includes(plan.risk);
}
