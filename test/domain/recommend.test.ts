// Strategy recommendation: the rule that applied, in words a person reads.
import { describe, expect, it } from 'vitest';
import { findService } from '../../src/config.js';
import { parseCommand } from '../../src/domain/parse.js';
import { recommendStrategy } from '../../src/domain/recommend.js';
import type { DeployRequest } from '../../src/domain/types.js';
import { configWith, NOW, shippedConfig as cfg } from './helpers.js';

const checkout = findService(cfg, 'checkout')!;

function request(text: string): DeployRequest {
  const r = parseCommand(text, cfg, NOW);
  if (!r.ok || r.command.intent !== 'deploy') throw new Error(`not a deploy request: ${text}`);
  return r.command;
}

describe('recommendStrategy', () => {
  it('zero downtime → blue-green, explaining the instant switch back', () => {
    const rec = recommendStrategy(request('deploy checkout v1 with zero downtime'), checkout, cfg);
    expect(rec.strategy).toBe('blue-green');
    expect(rec.rationale).toMatch(/zero downtime/);
    expect(rec.rationale).toMatch(/rollback is an instant switch back/);
  });

  it('instant rollback tolerance → blue-green', () => {
    const rec = recommendStrategy({}, checkout, cfg, { rollbackTolerance: 'instant' });
    expect(rec.strategy).toBe('blue-green');
    expect(rec.rationale).toMatch(/instant rollback/);
  });

  it('high risk → canary, for progressive validation', () => {
    const rec = recommendStrategy({ risk: 'high' }, checkout, cfg);
    expect(rec.strategy).toBe('canary');
    expect(rec.rationale).toMatch(/progressive validation/);
    expect(rec.rationale).toMatch(/compared with the baseline/);
  });

  it('stateful service → rolling', () => {
    const stateful = configWith((raw) => {
      raw.services[0].stateful = true;
    });
    const rec = recommendStrategy({ risk: 'high' }, stateful.services[0], stateful);
    expect(rec.strategy).toBe('rolling');
    expect(rec.rationale).toMatch(/checkout is stateful/);
  });

  it('no spare capacity → rolling', () => {
    const tight = configWith((raw) => {
      raw.services[0].spareCapacity = false;
    });
    const rec = recommendStrategy({}, tight.services[0], tight);
    expect(rec.strategy).toBe('rolling');
    expect(rec.rationale).toMatch(/no spare capacity/);
  });

  it('otherwise the configured default, saying so', () => {
    const rec = recommendStrategy({}, checkout, cfg);
    expect(rec.strategy).toBe('canary');
    expect(rec.rationale).toMatch(/configured default/);
  });

  it('database migration: says rollback restores code, not schema', () => {
    const rec = recommendStrategy(request('deploy checkout v1 database migration'), checkout, cfg);
    expect(rec.rationale).toMatch(/rollback restores the code, not the schema/);
    expect(rec.rationale).toMatch(/backward compatible/);
    expect(rec.warnings).toEqual([]); // an explanation, not something to fix
  });

  it('blue-green with a migration notes that both colours share the database', () => {
    const rec = recommendStrategy({ strategy: 'blue-green', dbMigration: true }, checkout, cfg);
    expect(rec.rationale).toMatch(/Both colours share the database/);
  });

  it('honours an explicit strategy even when rules would pick another', () => {
    const rec = recommendStrategy({ strategy: 'rolling', risk: 'high' }, checkout, cfg);
    expect(rec.strategy).toBe('rolling');
    expect(rec.rationale).toMatch(/asked for rolling/);
    expect(rec.rationale).toMatch(/High risk/);
  });

  it('honours an explicit strategy the service does not allow, with a warning', () => {
    const noBg = configWith((raw) => {
      raw.services[0].strategies = ['canary', 'rolling'];
    });
    const rec = recommendStrategy({ strategy: 'blue-green' }, noBg.services[0], noBg);
    expect(rec.strategy).toBe('blue-green');
    expect(rec.warnings.join(' ')).toMatch(/does not allow blue-green \(allowed: canary, rolling/);
  });

  it('falls back to an allowed strategy when the rule picks a disallowed one', () => {
    const canaryOnly = configWith((raw) => {
      raw.services[0].strategies = ['canary'];
      raw.services[0].stateful = true;
    });
    const rec = recommendStrategy({}, canaryOnly.services[0], canaryOnly);
    expect(rec.strategy).toBe('canary');
    expect(rec.warnings.join(' ')).toMatch(/rolling would fit/);
  });
});

describe('recommendStrategy: warnings stay out of the rationale', () => {
  it('lists the stateful blue-green caveat once, as a warning', () => {
    const stateful = configWith((raw) => {
      raw.services[0].stateful = true;
    });
    const rec = recommendStrategy({ strategy: 'blue-green' }, stateful.services[0], stateful);
    expect(rec.warnings).toEqual(['checkout is stateful: blue-green runs two full copies at once.']);
    expect(rec.rationale).not.toContain('two full copies at once');
  });
});
