// Roles and channels from shipbot.yml: who may deploy, decide, approve; when approval is needed.
import { describe, expect, it } from 'vitest';
import {
  matchesPrincipal,
  mayAccept,
  mayApprove,
  mayDecide,
  mayDeploy,
  mayLock,
  mayUnlock,
  NO_ROLES,
  needsApproval,
} from '../../src/domain/permissions.js';
import { configWith, shippedConfig as cfg } from './helpers.js';

const strict = configWith((raw) => {
  raw.roles = {
    deployers: ['U_DEV', '@deployers'],
    incidentCommanders: ['U_IC', '@incident-commanders'],
    approvers: ['U_RM', '@release-managers'],
    requesterMayDecide: false,
  };
  raw.channels.deploy = { staging: ['*'], production: ['#deploys', 'C_PROD'] };
  raw.approvalRequiredFor = ['high', 'medium'];
});

describe('matchesPrincipal', () => {
  it('matches *, user ids and @group handles', () => {
    expect(matchesPrincipal({ userId: 'U1' }, ['*'])).toBe(true);
    expect(matchesPrincipal({ userId: 'U1' }, ['U1'])).toBe(true);
    expect(matchesPrincipal({ userId: 'U1' }, ['U2'])).toBe(false);
    expect(matchesPrincipal({ userId: 'U1', groups: ['@oncall'] }, ['@oncall'])).toBe(true);
    expect(matchesPrincipal({ userId: 'U1', groups: ['OnCall'] }, ['@oncall'])).toBe(true);
    expect(matchesPrincipal({ userId: 'U1', groups: ['@other'] }, ['@oncall'])).toBe(false);
    expect(matchesPrincipal({ userId: 'oncall' }, ['@oncall'])).toBe(false);
    expect(matchesPrincipal({ userId: 'U1' }, [])).toBe(false);
  });
});

describe('mayDeploy', () => {
  it('the shipped demo config lets anyone deploy from anywhere', () => {
    expect(mayDeploy({ userId: 'U_ANY' }, 'C_RANDOM', 'production', cfg)).toEqual({ ok: true });
  });
  it('refuses people outside deployers, naming who may', () => {
    const r = mayDeploy({ userId: 'U_X' }, '#deploys', 'production', strict);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/only <@U_DEV>, @deployers may/);
  });
  it('accepts group members', () => {
    expect(mayDeploy({ userId: 'U_X', groups: ['@deployers'] }, { id: 'C1', name: 'deploys' }, 'production', strict).ok).toBe(true);
  });
  it('matches production channels by id or #name', () => {
    expect(mayDeploy({ userId: 'U_DEV' }, 'C_PROD', 'production', strict).ok).toBe(true);
    expect(mayDeploy({ userId: 'U_DEV' }, { id: 'C9', name: 'deploys' }, 'production', strict).ok).toBe(true);
    expect(mayDeploy({ userId: 'U_DEV' }, '#deploys', 'production', strict).ok).toBe(true);
    const r = mayDeploy({ userId: 'U_DEV' }, { id: 'C9', name: 'random' }, 'production', strict);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/production deploys are not accepted in this channel; use #deploys, C_PROD/);
    expect(mayDeploy({ userId: 'U_DEV' }, { id: 'C9', name: 'random' }, 'staging', strict).ok).toBe(true);
  });
  it('the terminal (no channel) is only checked for the role', () => {
    expect(mayDeploy({ userId: 'U_DEV' }, null, 'production', strict).ok).toBe(true);
  });
});

describe('mayDecide', () => {
  it('incident commanders may, by id or group', () => {
    expect(mayDecide({ userId: 'U_IC' }, { requester: { userId: 'U_DEV' } }, strict).ok).toBe(true);
    expect(mayDecide({ userId: 'U_Z', groups: ['@incident-commanders'] }, { requester: 'U_DEV' }, strict).ok).toBe(true);
  });
  it('the requester may when requesterMayDecide is set', () => {
    expect(mayDecide({ userId: 'U_DEV' }, { requester: { userId: 'U_DEV' } }, cfg).ok).toBe(true);
    const r = mayDecide({ userId: 'U_DEV' }, { requester: { userId: 'U_DEV' } }, strict);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/Only incident commanders \(<@U_IC>, @incident-commanders\)/);
  });
  it('a bystander may not, and is told who may', () => {
    const r = mayDecide({ userId: 'U_BY' }, { requester: { userId: 'U_DEV' } }, cfg);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/<@U_DEV>.*incident commanders/);
  });
});

describe('mayApprove', () => {
  it('approvers may approve someone else’s deploy', () => {
    expect(mayApprove({ userId: 'U_RM' }, { userId: 'U_DEV' }, strict).ok).toBe(true);
    expect(mayApprove({ userId: 'U_Q', groups: ['@release-managers'] }, 'U_DEV', strict).ok).toBe(true);
  });
  it('never the requester, even an approver', () => {
    const r = mayApprove({ userId: 'U_RM' }, { userId: 'U_RM' }, strict);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/second person/);
  });
  it('others are told who may', () => {
    const r = mayApprove({ userId: 'U_X' }, 'U_DEV', strict);
    expect(!r.ok && r.reason).toMatch(/Only approvers \(<@U_RM>, @release-managers\)/);
  });
  it('says so when no approvers are configured', () => {
    const none = configWith((raw) => {
      raw.roles.approvers = [];
    });
    const r = mayApprove({ userId: 'U_X' }, 'U_DEV', none);
    expect(!r.ok && r.reason).toMatch(/No approvers are configured/);
  });
});

describe('needsApproval', () => {
  it.each([
    ['high', 'production', true],
    ['medium', 'production', false],
    ['low', 'production', false],
    ['high', 'staging', false],
  ] as const)('shipped config: %s risk in %s → %s', (risk, environment, expected) => {
    expect(needsApproval({ risk, environment }, cfg)).toBe(expected);
  });
  it('follows approvalRequiredFor', () => {
    expect(needsApproval({ risk: 'medium', environment: 'production' }, strict)).toBe(true);
  });
});

// The trust review's Medium findings (issue 32): each failed on the code before it.
describe('closed by default', () => {
  const noRoles = configWith((raw) => {
    delete raw.roles;
  });
  it('a config without roles allows staging only, and says why', () => {
    expect(noRoles.roles).toBeUndefined();
    expect(mayDeploy({ userId: 'U_ANY' }, 'C1', 'staging', noRoles).ok).toBe(true);
    const prod = mayDeploy({ userId: 'U_ANY' }, 'C1', 'production', noRoles);
    expect(prod).toEqual({ ok: false, reason: NO_ROLES });
    expect(NO_ROLES).toMatch(/staging deploys only/);
  });
  it('locking needs the deploy role for that environment', () => {
    expect(mayLock({ userId: 'U_X' }, 'production', strict).ok).toBe(false);
    expect(mayLock({ userId: 'U_DEV' }, 'production', strict).ok).toBe(true);
    expect(mayLock({ userId: 'U_ANY' }, 'production', noRoles)).toEqual({ ok: false, reason: NO_ROLES });
    expect(mayLock({ userId: 'U_ANY' }, 'staging', noRoles).ok).toBe(true);
  });
  it('guests and people of another workspace are not covered by *: production needs their name', () => {
    for (const outsider of ['guest', 'external', 'unknown'] as const) {
      const r = mayDeploy({ userId: 'U_G', outsider }, 'C1', 'production', cfg);
      expect(r.ok, outsider).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/only when roles.deployers names them/);
      expect(mayDeploy({ userId: 'U_G', outsider }, 'C1', 'staging', cfg).ok).toBe(true);
      expect(mayLock({ userId: 'U_G', outsider }, 'production', cfg).ok).toBe(false);
    }
    const named = configWith((raw) => {
      raw.roles.deployers = ['*', 'U_G'];
    });
    expect(mayDeploy({ userId: 'U_G', outsider: 'guest' }, 'C1', 'production', named).ok).toBe(true);
  });
});

describe('mayUnlock: one rule, typed or pressed', () => {
  const held = { holder: 'alice (U_DEV)', kind: 'held' as const, environment: 'production' as const };
  it('a lock kept after a production rollback waits for an incident commander, not the requester', () => {
    expect(mayUnlock({ userId: 'U_DEV', name: 'alice' }, held, 'U_DEV', cfg).ok).toBe(false);
    expect(mayUnlock({ userId: 'U_IC' }, held, 'U_DEV', cfg).ok).toBe(true);
    expect(mayUnlock({ userId: 'U_DEV' }, { ...held, environment: 'staging' }, 'U_DEV', cfg).ok).toBe(true);
  });
  it('a manual lock: its holder (by id, whatever the name) or an incident commander', () => {
    const manual = { holder: 'ivan (U_IC)', kind: 'manual' as const, environment: 'production' as const };
    expect(mayUnlock({ userId: 'U_IC', name: 'Ivan C.' }, manual, undefined, strict).ok).toBe(true);
    const r = mayUnlock({ userId: 'U_DEV' }, manual, undefined, strict);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/Only ivan, who locked it, or an incident commander/);
  });
});

describe('mayAccept', () => {
  it('where an approval was required, the requester cannot accept their own regression', () => {
    expect(mayAccept({ userId: 'U_DEV' }, { requester: 'U_DEV', approved: true }, cfg).ok).toBe(false);
    expect(mayAccept({ userId: 'U_IC' }, { requester: 'U_DEV', approved: true }, cfg).ok).toBe(true);
    expect(mayAccept({ userId: 'U_DEV' }, { requester: 'U_DEV', approved: false }, cfg).ok).toBe(true);
  });
});
