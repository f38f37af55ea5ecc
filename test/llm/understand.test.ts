import { describe, expect, it } from 'vitest';
import { Proposal, checkProposal, versionWritten } from '../../src/llm/understand.js';
import { cfg } from './fixtures.js';

const p = (over: Partial<Proposal>): Proposal => ({ isDeployRequest: true, ...over });

describe('checkProposal (what Claude may propose)', () => {
  it('maps a free-text request to a catalogue service, a 10% first canary step, and asks for the version', () => {
    const text = 'can we get the new recommendation engine out to 10% of users first?';
    const r = checkProposal(p({ service: 'recommendation-engine', canarySteps: [10], reading: 'canary of search' }), text, cfg);
    expect(r.request).toMatchObject({
      intent: 'deploy',
      service: 'search',
      strategy: 'canary',
      canarySteps: [10, 100],
      environment: 'production',
      interactive: true,
    });
    expect(r.request?.missing).toEqual(['version']);
    expect(r.request?.version).toBeUndefined();
    expect(r.request?.notes.join(' ')).toMatch(/check it before starting/);
  });

  it('drops a service that is not in the catalogue', () => {
    const r = checkProposal(p({ service: 'billing', version: 'v2.0.0' }), 'ship billing v2.0.0 please', cfg);
    expect(r.request?.service).toBeUndefined();
    expect(r.request?.missing).toEqual(['service']);
    expect(r.request?.version).toBe('v2.0.0');
    expect(r.rejected.join()).toMatch(/'billing' is not in the service catalogue/);
  });

  it('drops a catalogue service the message never names, offering it as a suggestion', () => {
    const r = checkProposal(p({ service: 'payments', version: 'v1.0.1' }), 'ship v1.0.1 of the thing', cfg);
    expect(r.request?.service).toBeUndefined();
    expect(r.request?.suggestions).toEqual(['payments']);
  });

  it('never takes a version that is not written in the message', () => {
    const r = checkProposal(p({ service: 'checkout', version: 'v1.2.4' }), 'roll the latest checkout to prod', cfg);
    expect(r.request?.version).toBeUndefined();
    expect(r.request?.missing).toEqual(['version']);
    expect(r.rejected.join()).toMatch(/'v1.2.4' is not written in the message/);
    const bad = checkProposal(p({ service: 'checkout', version: 'v1;rm -rf' }), 'checkout v1;rm -rf', cfg);
    expect(bad.request?.version).toBeUndefined();
  });

  it('matches versions as whole tags only', () => {
    expect(versionWritten('deploy checkout v1.2.3.', 'v1.2.3')).toBe(true);
    expect(versionWritten('deploy checkout v1.2.3-crash', 'v1.2.3')).toBe(false);
    expect(versionWritten('deploy checkout v1.2.34', 'v1.2.3')).toBe(false);
    expect(versionWritten('deploy checkout v1.2.3.4', 'v1.2.3')).toBe(false);
  });

  it('keeps production unless the message names staging; refuses strategies the service disallows', () => {
    const r = checkProposal(p({ service: 'checkout', version: 'v1.2.3', environment: 'staging' }), 'checkout v1.2.3 asap', cfg);
    expect(r.request?.environment).toBe('production');
    const s = checkProposal(p({ service: 'checkout', version: 'v1.2.3', environment: 'staging' }), 'checkout v1.2.3 to stg', cfg);
    expect(s.request?.environment).toBe('staging');
    const restricted = {
      ...cfg,
      services: cfg.services.map((x) => (x.name === 'checkout' ? { ...x, strategies: ['rolling' as const] } : x)),
    };
    const t = checkProposal(
      p({ service: 'checkout', version: 'v1.2.3', strategy: 'blue-green' }),
      'checkout v1.2.3 blue green',
      restricted,
    );
    expect(t.request?.strategy).toBeUndefined();
    expect(t.rejected.join()).toMatch(/not allowed for checkout/);
  });

  it('returns no request when Claude says it is not a deploy request', () => {
    expect(checkProposal({ isDeployRequest: false }, 'what time is lunch?', cfg).request).toBeUndefined();
  });

  it('rejects extra fields an injected message might ask for (strict schema)', () => {
    const parsed = Proposal.safeParse({ isDeployRequest: true, service: 'checkout', startNow: true, rollbackOnRegression: false });
    expect(parsed.success).toBe(false);
  });
});
