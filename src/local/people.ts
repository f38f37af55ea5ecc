// Who a person can act as on the local page, and what data/shipbot.yml lets each of them do,
// so switching users shows the role checks with the reason in plain sight. Pure: no I/O.
import type { ShipbotConfig } from '../config.js';
import type { DoubleUser } from '../slack/double/index.js';
import type { LocalPerson } from './server.js';

/** The demo cast, by the Slack double's default user ids. */
const PERSONAS: Array<{ id: string; persona: string }> = [
  { id: 'U_DEV', persona: 'engineer' },
  { id: 'U_IC', persona: 'incident commander' },
  { id: 'U_CAROL', persona: 'on-call engineer' },
  { id: 'U_OTHER', persona: 'stakeholder' },
];

function listed(principals: string[], user: DoubleUser): boolean {
  return principals.some((p) => p === '*' || p === user.id || (p.startsWith('@') && (user.groups ?? []).includes(p.slice(1))));
}

/** What the config lets this person do, in words: `may deploy, roll back and accept any run`. */
export function powersOf(config: ShipbotConfig, user: DoubleUser): string {
  const can: string[] = [];
  const roles = config.roles;
  if (!roles) return 'may deploy to staging (no roles are configured)';
  if (listed(roles.deployers, user)) can.push('deploy');
  if (listed(roles.incidentCommanders, user)) can.push('roll back / accept any run');
  else if (roles.requesterMayDecide) can.push('roll back / accept own runs');
  if (listed(roles.approvers, user)) can.push('approve high-risk deploys');
  return can.length ? `may ${can.join(', ')}` : 'may only read';
}

export function localPeople(config: ShipbotConfig, users: Iterable<DoubleUser>): LocalPerson[] {
  const byId = new Map([...users].map((u) => [u.id, u]));
  const out: LocalPerson[] = [];
  for (const { id, persona } of PERSONAS) {
    const u = byId.get(id);
    if (!u || u.isBot) continue;
    out.push({ id, name: u.name, realName: u.realName ?? u.name, role: `${persona} · ${powersOf(config, u)}` });
  }
  return out;
}

/**
 * `shipbot start --as <user>` on a real cluster: the page acts as that one person, with the roles
 * the config gives them, and says so; there is no one else to switch to.
 */
export function actingAs(config: ShipbotConfig, user: DoubleUser): LocalPerson[] {
  return [
    {
      id: user.id,
      name: user.name,
      realName: user.realName ?? user.name,
      role: `you (--as ${user.id}): ${powersOf(config, user)}, as shipbot.yml says`,
    },
  ];
}
