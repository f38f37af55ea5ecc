// Chat text → a command. Rules only, no I/O. A message is a request only when it starts with
// an instruction ("deploy …", "roll out …", "rollback …"); chatter, questions, negations and past
// tense are refused with a reason. What the text does not say (service, version) is listed in
// `missing`, never guessed; a version is only ever a string that matches VERSION_PATTERN.
import type { ShipbotConfig } from './config-schema.js';
import { resolveService } from './fuzzy.js';
import { environmentWord, extractFlags, splitWords, strategyWord, type Flags, type Word } from './parse-flags.js';
import { describeHints, GENTLE_CANARY_STEPS, readGuidance } from './parse-keywords.js';
import { extractCanarySteps } from './parse-steps.js';
import { extractSchedule } from './schedule-time.js';
import { DeployRequest, VERSION_PATTERN, type Environment, type ParseResult, type ParsedCommand, type Strategy } from './types.js';

const MAX_TEXT = 4000;
const EXAMPLE = 'e.g. `deploy checkout v1.2.3 canary`';

/** Parses a chat message (channel message, mention, DM). */
export function parseCommand(text: string, cfg: ShipbotConfig, now: Date = new Date()): ParseResult {
  return parse(text, cfg, now, false);
}

/** Parses `/deploy` text, which arrives without the verb: `checkout v1.2.3 canary`. */
export function parseSlashDeploy(text: string, cfg: ShipbotConfig, now: Date = new Date()): ParseResult {
  return parse(text, cfg, now, true);
}

const fail = (reason: string): ParseResult => ({ ok: false, reason });

function parse(input: string, cfg: ShipbotConfig, now: Date, slash: boolean): ParseResult {
  if (input.length > MAX_TEXT)
    return fail(`The message is ${input.length} characters long; a deploy request fits in one line (${EXAMPLE}).`);
  const cleaned = cleanSlackText(input);
  const split = extractFlags(splitWords(cleaned));
  if (!split.ok) return split;
  const { flags } = split;
  let words = split.rest;
  const prefix = stripAddress(words);
  words = prefix.words;
  const body = joinWords(words);

  if (!body && !hasDeployFlags(flags)) {
    if (slash) return finishDeploy(flags, cfg, []);
    return fail(`The message is empty. Say what to deploy, ${EXAMPLE}, or \`help\`.`);
  }
  const intent = detectIntent(body, slash);
  if (!intent) return fail(whyNotARequest(body));
  if (intent.kind === 'chatter') return fail(intent.reason);

  const endsWithQuestion = /\?\s*$/.test(body);
  if (endsWithQuestion && !['status', 'help'].includes(intent.kind) && !prefix.politeQuestion) {
    return fail(`This reads as a question, not a request. To start one, say it without the question mark, ${EXAMPLE}.`);
  }
  const shell = shellCharacters(intent.rest) ?? unsafePath(intent.rest);
  if (shell) return fail(shell);

  if (intent.kind !== 'deploy' && hasDeployFlags(flags) && !(Object.keys(flags).length === 1 && flags.environment)) {
    return fail(`Options like --guidance or --strategy only apply to deploy requests, not to '${intent.kind}'.`);
  }
  switch (intent.kind) {
    case 'deploy': {
      const result = parseDeploy(intent.rest, flags, cfg, now, intent.notes);
      // "can you deploy?" with nothing concrete is a question about deploying, not a request.
      if (prefix.politeQuestion && result.ok && result.command.intent === 'deploy' && !result.command.service && !result.command.version) {
        return fail(`This reads as a question about deploying, not a request. Say what to deploy, ${EXAMPLE}.`);
      }
      return result;
    }
    case 'help':
      return { ok: true, command: { intent: 'help' } };
    default:
      return parseOperation(intent.kind, intent.rest, flags, cfg);
  }
}

// ---------------------------------------------------------------------------------------------
// Text clean-up

/** Slack markup → plain text: mentions removed, links to their label, entities decoded. */
export function cleanSlackText(text: string): string {
  return (
    text
      .replace(/<@[UW][A-Z0-9]+(?:\|[^>]*)?>/g, ' ')
      .replace(/<!(?:here|channel|everyone)(?:\|[^>]*)?>/g, ' ')
      .replace(/<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>/g, ' ')
      .replace(/<#[CG][A-Z0-9]+\|([^>]*)>/g, '#$1')
      .replace(/<((?:https?|mailto):[^|>]*)(?:\|([^>]*))?>/g, (_m, url: string, label?: string) => label ?? url)
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
      .replace(/```([\s\S]*?)```/g, ' $1 ')
      // Inline code around one word is formatting (`v1.2.3`); other backticks stay and are refused.
      .replace(/`([^`\s]+)`/g, '$1')
      .replace(/(^|\s)\*([^*\s]+)\*(?=\s|$)/g, '$1$2')
      .replace(/(^|\s)~([^~\s]+)~(?=\s|$)/g, '$1$2')
      .replace(/\u200b|\u200c|\u200d|\ufeff/g, '')
      .replace(/\u00a0/g, ' ')
      .trim()
      // A leading emoji (`:rocket:` or 🚀) is decoration: "🚀 deploy checkout v1.2.3" is a request.
      .replace(/^(?:(?::[a-z0-9_+'-]+:|\p{Extended_Pictographic}|\uFE0F|\u200d)\s*)+/u, '')
      .trim()
  );
}

/**
 * Whether a plain channel message opens with a deploy verb ("deploy …", "ship it", "push …"):
 * such a message gets an answer (a refusal at least) without an @-mention. Statements about
 * deploys ("deploy is done") and other chatter stay unanswered.
 */
export function startsWithDeployVerb(text: string): boolean {
  const [w0, w1] = firstWords(normalisePhrases(cleanSlackText(text)));
  const verb = w0?.replace(/^\//, '');
  return !!verb && DEPLOY_VERBS.has(verb) && !(w1 && STATEMENT_WORDS.has(w1));
}

/** Words back to text; a quoted word keeps its spaces as no-break spaces so it stays one word. */
function joinWords(words: Word[]): string {
  return words
    .map((w) => (w.quoted ? `"${w.text.replace(/ /g, '\u00a0')}"` : w.text))
    .join(' ')
    .trim();
}

const ADDRESS = /^(?:@?shipbot[,:!]?|hey|hi|hello|yo|ok|okay|ok,|okay,|please|pls|plz|kindly|now|so)$/i;

/** Drops greetings, `@shipbot`, `please`, `let's`, `can you` in front of the instruction. */
function stripAddress(words: Word[]): { words: Word[]; politeQuestion: boolean } {
  let i = 0;
  let politeQuestion = false;
  for (;;) {
    const w = words[i]?.quoted ? '' : (words[i]?.text.toLowerCase() ?? '');
    const next = words[i + 1]?.text.toLowerCase() ?? '';
    if (ADDRESS.test(w)) i++;
    else if (/^(let'?s|let’s)$/.test(w)) i++;
    else if (w === 'let' && next === 'us') i += 2;
    else if (w === 'go' && next === 'ahead' && words[i + 2]?.text.toLowerCase() === 'and') i += 3;
    else if (/^(can|could|would|will)$/.test(w) && /^you[,]?$/.test(next)) {
      politeQuestion = true;
      i += 2;
    } else break;
  }
  return { words: words.slice(i), politeQuestion };
}

/** Multi-word phrases to single words so the rules below see one token each. */
function normalisePhrases(text: string): string {
  return text
    .replace(/\broll[- ]?out\b/gi, 'rollout')
    .replace(/\broll[- ]back\b/gi, 'rollback')
    .replace(/\bgo[- ]live\b/gi, 'golive')
    .replace(/\bkick[- ]off\b/gi, 'kickoff')
    .replace(/\bblue\s*(?:[-/&+_]|\s|and)\s*green\b/gi, 'blue-green')
    .replace(/\bred\s*(?:[-/&+_]|\s|and)\s*black\b/gi, 'blue-green')
    .replace(/\brolling\s+(?:update|upgrade|restart)\b/gi, 'rolling')
    .replace(/\bhigh\s+risk\b/gi, 'high-risk')
    .replace(/\blow\s+risk\b/gi, 'low-risk')
    .replace(/\bmedium\s+risk\b/gi, 'medium-risk');
}

/** Characters that can never be part of a service or a version; refusing them stops injection. */
/** A path where a version belongs (`../../etc/passwd`, `/tmp/x`): refused, never read as "version missing". */
function unsafePath(text: string): string | undefined {
  const m = /(?:^|\s)(\S*(?:\.\.[/\\]|[/\\]\.\.)\S*|\/\S+)/.exec(text);
  if (!m) return undefined;
  return `'${m[1]}' is not a valid version: it is a path, and a version is an image tag (letters, digits, '.', '_' and '-'). Nothing was started; retype it, ${EXAMPLE}.`;
}

function shellCharacters(text: string): string | undefined {
  // Arrows between canary steps (`5%->25%`) are the only place `>` belongs.
  const m = /[;|`$<>\\{}]|&&/.exec(text.replace(/-+>|=>/g, ' '));
  if (!m) return undefined;
  return `The request contains '${m[0]}', which can never be part of a service or version (letters, digits, '.', '_' and '-' only). Nothing was started; retype it, ${EXAMPLE}.`;
}

function hasDeployFlags(f: Flags): boolean {
  return Object.values(f).some((v) => v !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Intent

type Intent =
  | { kind: 'deploy'; rest: string; notes: string[] }
  | { kind: 'rollback' | 'status' | 'cancel' | 'lock' | 'unlock' | 'help'; rest: string }
  | { kind: 'chatter'; reason: string };

const DEPLOY_VERBS = new Set(['deploy', 'redeploy', 'ship', 'release', 'rollout', 'golive', 'launch', 'push']);
const STARTERS = new Set(['start', 'begin', 'run', 'execute', 'trigger', 'kickoff', 'initiate', 'perform', 'do', 'proceed']);
const DEPLOY_NOUNS = new Set(['deploy', 'deployment', 'deploys', 'rollout', 'release', 'golive', 'go-live', 'launch', 'ship']);
/** After a deploy verb these make a statement about deploys, not an instruction. */
const STATEMENT_WORDS = new Set([
  'is',
  'are',
  'was',
  'were',
  'has',
  'have',
  'had',
  'failed',
  'fails',
  'broke',
  'broken',
  'went',
  'looks',
  'seems',
  'took',
  'takes',
  'will',
  "won't",
  'would',
  'should',
  'can',
  'could',
  'did',
  'does',
  "didn't",
  "doesn't",
  "isn't",
  'notes',
  'note',
  'pipeline',
  'pipelines',
  'queue',
  'freeze',
  'window',
  'bot',
  'logs',
  'log',
  'script',
  'job',
  'jobs',
  'process',
  'train',
  'branch',
  'candidate',
  'party',
  'manager',
  'calendar',
  'checklist',
  'date',
  'day',
  'time',
  'status',
  'keeps',
  'still',
  'never',
  'succeeded',
  'finished',
  'done',
  'worked',
  'works',
  'stuck',
  'hung',
]);
const OPERATIONS: Record<string, Exclude<Intent['kind'], 'deploy' | 'chatter'>> = {
  rollback: 'rollback',
  revert: 'rollback',
  status: 'status',
  cancel: 'cancel',
  abort: 'cancel',
  lock: 'lock',
  unlock: 'unlock',
  help: 'help',
  usage: 'help',
  commands: 'help',
  '?': 'help',
};

function firstWords(text: string): string[] {
  return text.split(/[ \t\r\n]+/).map((w) => w.toLowerCase().replace(/^[("'*_]+|[)"'*_,.!:?]+$/g, ''));
}

function detectIntent(body: string, slash: boolean): Intent | undefined {
  const text = normalisePhrases(body);
  const words = text.split(/[ \t\r\n]+/);
  const lower = firstWords(text);
  // `/deploy …` typed as a message (not sent as the command) reads as the verb.
  if (lower[0]?.startsWith('/')) lower[0] = lower[0].slice(1);
  const [w0, w1] = lower;
  const restAfter = (n: number) => words.slice(n).join(' ');
  if (text.trim() === '?') return { kind: 'help', rest: '' };
  // "what's the status of the checkout deploy?": a status question is a status request.
  const statusAt = lower.indexOf('status');
  if (QUESTION_START.test(text) && statusAt > 0 && statusAt <= 3) return { kind: 'status', rest: restAfter(statusAt + 1) };
  // Before the verbs: "do not deploy …" starts with a starter verb but forbids.
  if (NEGATION.test(text)) return { kind: 'chatter', reason: whyNotARequest(text) };

  if (w0 === 'ship' && (w1 === 'it' || w1 === 'this' || w1 === 'that') && words.length <= 3) {
    return { kind: 'chatter', reason: `'${body}' sounds like cheering, not a request: say what to ship, ${EXAMPLE}.` };
  }
  if (DEPLOY_VERBS.has(w0)) {
    if (w1 && STATEMENT_WORDS.has(w1))
      return { kind: 'chatter', reason: `This is a statement about deploys ('${w0} ${w1} …'), not a request.` };
    return { kind: 'deploy', rest: restAfter(1), notes: [] };
  }
  if (STARTERS.has(w0)) {
    // "start deployment", "execute production rollout", "run a canary deploy of checkout v1.2.3"
    const at = lower.slice(1, 5).findIndex((w) => DEPLOY_NOUNS.has(w));
    if (at !== -1) {
      const kept = words.filter((_, i) => i !== 0 && i !== at + 1);
      return { kind: 'deploy', rest: kept.join(' '), notes: [] };
    }
    return undefined;
  }
  const op = OPERATIONS[w0];
  if (op) return { kind: op, rest: restAfter(1) };
  if (slash) return { kind: 'deploy', rest: text, notes: [] };
  return undefined;
}

const QUESTION_START =
  /^(who|what|whats|what's|when|where|why|how|which|whose|did|does|do|is|are|was|were|should|shall|will|would|can|could|has|have|any|anyone|anybody|someone|somebody)\b/i;
const NEGATION = /^(don'?t|do not|dont|never|no|not|nobody|stop|avoid|shouldn'?t|can'?t|won'?t|mustn'?t|please don'?t|pls don'?t)\b/i;
const PAST = /\b(deployed|shipped|released|rolled|redeployed|launched|reverted|went live|was deployed|were deployed|pushed)\b/i;
const PROGRESSIVE = /\b(deploying|shipping|releasing|rolling|launching)\b/i;
const MENTIONS_DEPLOY = /\b(deploy\w*|ship\w*|release\w*|roll\w* ?out|rollback|go ?live)\b/i;

/** The readable reason a message that does not start with an instruction is not a request. */
export function whyNotARequest(body: string): string {
  const t = body.trim();
  if (NEGATION.test(t)) return `This says not to deploy (a negation), so nothing was started.`;
  if (/\?\s*$/.test(t) || QUESTION_START.test(t)) return `This reads as a question about deploys, not a request. To start one, ${EXAMPLE}.`;
  if (PAST.test(t.split(/\s+/).slice(0, 5).join(' '))) return `This talks about a deploy in the past tense, not a new request.`;
  if (PROGRESSIVE.test(t.split(/\s+/).slice(0, 4).join(' '))) return `This describes a deploy in progress, not a new request.`;
  if (MENTIONS_DEPLOY.test(t))
    return `This mentions deploys but is not a request: a request starts with deploy, ship, release, roll out or go live, ${EXAMPLE}.`;
  return `Not a Shipbot request. Start with deploy, rollback, status, cancel, lock, unlock or help, ${EXAMPLE}.`;
}

// ---------------------------------------------------------------------------------------------
// Deploy requests

/** Words that carry no service or version (connectives, nouns around "deploy", keyword words). */
const FILLERS = new Set(
  (
    'to in into on onto for of with using use via as the a an new newest latest please pls plz now right away today then and also ' +
    'it this that these our my your version release deployment deploy deploys rollout golive build app application service svc ' +
    'strategy mode style environment env cluster thanks thank you ty thx me us out up over all from by at just again quickly ' +
    'safely so we can but because since be is are switch traffic step steps stage stages percent risk high low medium med ' +
    'high-risk low-risk medium-risk zero downtime zero-downtime no without database db schema migration migrations change ' +
    'changes security secure performance perf latency compliance audit tight urgent urgently asap emergency hotfix hot-fix ' +
    'deadline timeline instant instantly immediate fast quick rollback careful carefully cautious cautiously conservative ' +
    'gentle gently slowly focus critical production-ready ready fix fixes bugfix patch image tag strategy: go live ' +
    'everything across fleet pods pod containers container via please! only one single straight directly time window ' +
    'regression regressions threshold auto automatic automatically rollbacks'
  ).split(' '),
);
const OTHER_ENVIRONMENTS = new Set([
  'dev',
  'development',
  'qa',
  'uat',
  'test',
  'testing',
  'sandbox',
  'local',
  'preprod',
  'pre-prod',
  'integration',
  'demo',
  'perf-env',
]);
const PREPOSITIONS = new Set(['to', 'in', 'into', 'on', 'onto', 'env', 'environment']);
const VERSION_KEYWORDS = new Set(['version', 'tag', 'image', 'build', 'v', 'ver']);

function cleanToken(raw: string): string {
  return raw.replace(/^[(["'*~]+/, '').replace(/[)\]"'*~,.!?:]+$/, '');
}

function versionProblem(candidate: string): string {
  const shown = candidate.length > 40 ? `${candidate.slice(0, 40)}…` : candidate;
  const why = /^sha256:/i.test(candidate)
    ? 'a digest is sha256: followed by 64 hex characters'
    : candidate.length > 128
      ? `it is ${candidate.length} characters (at most 128)`
      : /\s/.test(candidate)
        ? 'it contains spaces'
        : /[:@]/.test(candidate)
          ? `it contains '${/[:@]/.exec(candidate)![0]}'`
          : /^[.-]/.test(candidate)
            ? `it starts with '${candidate[0]}'`
            : 'only letters, digits, ., _ and - are allowed';
  return `'${shown}' is not a valid version (${why}). An image tag is 1–128 characters of A-Z a-z 0-9 . _ -; nothing was started.`;
}

interface Collected {
  service?: string;
  serviceWord?: string;
  version?: string;
  environment?: Environment;
  strategy?: Strategy;
  unknown: string[];
  keywordText: string[];
  notes: string[];
}

function parseDeploy(rest: string, flags: Flags, cfg: ShipbotConfig, now: Date, notes: string[]): ParseResult {
  let text = normalisePhrases(rest);
  const regression = readRegressionPhrases(text, flags);
  if (!regression.ok) return regression;
  text = regression.text;

  const schedule = extractSchedule(text, now);
  if (!schedule.ok) return fail(schedule.reason);
  text = schedule.text;
  if (schedule.note) notes.push(schedule.note);

  const steps = extractCanarySteps(text, cfg.defaults.canarySteps);
  if (!steps.ok) return fail(steps.reason);
  text = steps.text;
  if (steps.note) notes.push(steps.note);

  const collected = collect(text, cfg, notes);
  if (!collected.ok) return collected;
  return finishDeploy(flags, cfg, notes, collected.c, steps.steps, schedule.scheduledAt);
}

/** `regression threshold 3%`, `no rollback on regression` written as words instead of flags. */
function readRegressionPhrases(text: string, flags: Flags): { ok: true; text: string } | { ok: false; reason: string } {
  let out = text;
  const threshold = /\bregression[- ]threshold(?:\s+(?:of|at|=|:))?\s+(\d+(?:\.\d+)?)\s*%?/i.exec(out);
  if (threshold) {
    const n = Number(threshold[1]);
    if (n > 100) return { ok: false, reason: `A regression threshold is a percentage from 0 to 100 (got ${threshold[1]}).` };
    if (flags.regressionThresholdPct !== undefined && flags.regressionThresholdPct !== n) {
      return { ok: false, reason: `Two regression thresholds (${flags.regressionThresholdPct}% and ${n}%): give one.` };
    }
    flags.regressionThresholdPct = n;
    out = out.replace(threshold[0], ' ');
  }
  const noRollback = /\b(?:no|without|don'?t|do not|never)\s+(?:auto(?:matic(?:ally)?)?[- ]?)?rollback\s+on\s+regressions?\b/i.exec(out);
  const rollback = /\b(?:auto(?:matic(?:ally)?)?[- ]?)?rollback\s+on\s+regressions?\b/i.exec(out);
  const value = noRollback ? false : rollback ? true : undefined;
  if (value !== undefined) {
    if (flags.rollbackOnRegression !== undefined && flags.rollbackOnRegression !== value) {
      return { ok: false, reason: 'The request says both to roll back and not to roll back on regression: give one.' };
    }
    flags.rollbackOnRegression = value;
    out = out.replace((noRollback ?? rollback)![0], ' ');
  }
  return { ok: true, text: out };
}

function collect(text: string, cfg: ShipbotConfig, notes: string[]): { ok: true; c: Collected } | { ok: false; reason: string } {
  const raw = text.split(/[ \t\r\n]+/).filter(Boolean);
  const c: Collected = { unknown: [], keywordText: [], notes };
  let serviceIndex = -1;
  let forceVersionAt = -1;

  const setVersion = (candidate: string): string | undefined => {
    if (!VERSION_PATTERN.test(candidate)) return versionProblem(candidate);
    if (c.version && c.version !== candidate)
      return `The request names two versions ('${c.version}' and '${candidate}'): deploy one version at a time.`;
    c.version = candidate;
    return undefined;
  };
  const resolved = new Map<string, ReturnType<typeof resolveService>>();
  const setService = (word: string, index: number): string | undefined => {
    const key = word.toLowerCase();
    const r = resolved.get(key) ?? resolveService(key, cfg);
    resolved.set(key, r);
    if (r.kind === 'unknown') {
      c.unknown.push(word.toLowerCase());
      return undefined;
    }
    // Once a service is named, only an exact name or alias counts as a second one, not a near miss.
    if (c.service && r.kind === 'typo') return undefined;
    if (c.service && c.service !== r.service.name) {
      return `The request names two services ('${c.service}' and '${r.service.name}'): deploy one service per request.`;
    }
    if (r.kind === 'alias') notes.push(`'${word}' is an alias of ${r.service.name}`);
    if (r.kind === 'typo') notes.push(`read '${word}' as '${r.service.name}' (did you mean ${r.service.name}?)`);
    c.service = r.service.name;
    c.serviceWord = word;
    serviceIndex = index;
    return undefined;
  };

  for (let i = 0; i < raw.length; i++) {
    const quoted = raw[i].startsWith('"') && raw[i].endsWith('"') && raw[i].length >= 2;
    const token = quoted ? raw[i].slice(1, -1).replace(/\u00a0/g, ' ') : cleanToken(raw[i]);
    if (!token) continue;
    const w = token.toLowerCase();
    const prev = i > 0 ? cleanToken(raw[i - 1]).toLowerCase() : '';

    if (i === forceVersionAt) {
      const problem = setVersion(token);
      if (problem) return { ok: false, reason: problem };
      continue;
    }
    if (quoted && /\s/.test(token)) {
      // A quoted phrase is free text, unless it stands where a version goes.
      if (i === serviceIndex + 1 && serviceIndex !== -1 && /\d/.test(token)) return { ok: false, reason: versionProblem(token) };
      c.keywordText.push(token);
      continue;
    }
    if (/^--?[a-z]/i.test(token)) {
      return { ok: false, reason: `Unknown option '${token}'. Options go like --guidance "…", --interactive, --strategy canary.` };
    }
    if (VERSION_KEYWORDS.has(w) && i + 1 < raw.length) {
      const next = cleanToken(raw[i + 1]).toLowerCase();
      if (w === 'v' || next === 'latest' || (!FILLERS.has(next) && !environmentWord(next) && !strategyWord(next))) {
        forceVersionAt = i + 1;
        if (w === 'v') raw[i + 1] = `v${raw[i + 1]}`;
      }
      continue;
    }
    if (w.endsWith('%')) {
      return { ok: false, reason: `Unexpected traffic share '${token}': give the canary steps once, e.g. 5% → 25% → 100%.` };
    }
    const env = environmentWord(w);
    if (env && (w !== 'stage' || PREPOSITIONS.has(prev))) {
      if (c.environment && c.environment !== env) {
        return { ok: false, reason: `The request names two environments (${c.environment} and ${env}): deploy to one at a time.` };
      }
      c.environment = env;
      continue;
    }
    if (OTHER_ENVIRONMENTS.has(w) && PREPOSITIONS.has(prev)) {
      return { ok: false, reason: `'${token}' is not an environment Shipbot deploys to: choose staging or production.` };
    }
    const strategy = strategyWord(w);
    if (strategy) {
      if (c.strategy && c.strategy !== strategy) {
        return { ok: false, reason: `The request names two strategies (${c.strategy} and ${strategy}): choose one.` };
      }
      c.strategy = strategy;
      continue;
    }
    // A bare digest is the version, never `service:tag`.
    if (/^sha256:/i.test(token)) {
      const problem = setVersion(token.toLowerCase());
      if (problem) return { ok: false, reason: problem };
      continue;
    }
    // `checkout@1.2.3` / `checkout:1.2.3`: service and tag in one word.
    const sep = /[@:]/.exec(token);
    if (sep && sep.index > 0 && !/^v?\d/i.test(token) && !/^[a-z]+:\/\//.test(w)) {
      const name = token.slice(0, sep.index);
      const tag = token.slice(sep.index + 1);
      const problem = setService(name, i);
      if (problem) return { ok: false, reason: problem };
      const vProblem = setVersion(tag);
      if (vProblem) return { ok: false, reason: vProblem };
      continue;
    }
    if (/^v?\d/i.test(token)) {
      const problem = setVersion(token);
      if (problem) return { ok: false, reason: problem };
      continue;
    }
    if (FILLERS.has(w) || w.startsWith('#') || w.startsWith('@') || /^[a-z]+:\/\//.test(w)) {
      c.keywordText.push(token);
      continue;
    }
    if (i === serviceIndex + 1 && serviceIndex !== -1 && /\d/.test(token)) {
      // The word right after the service, with a digit in it, is its tag (`checkout rc1`, `checkout abc123f`).
      const problem = setVersion(token);
      if (problem) return { ok: false, reason: problem };
      continue;
    }
    if (/^[a-z][a-z0-9-]*$/.test(w)) {
      const problem = setService(token, i);
      if (problem) return { ok: false, reason: problem };
      if (serviceIndex === i) continue;
    }
    // Unknown words stay in the text the guidance keywords are read from.
    c.keywordText.push(token);
  }
  return { ok: true, c };
}

function finishDeploy(
  flags: Flags,
  cfg: ShipbotConfig,
  notes: string[],
  c: Collected = { unknown: [], keywordText: [], notes },
  steps?: number[],
  scheduledAt?: string,
): ParseResult {
  const hints = readGuidance([...c.keywordText, flags.guidance ?? ''].join(' '));

  if (flags.environment && c.environment && flags.environment !== c.environment) {
    return fail(`The request says ${c.environment} but --env says ${flags.environment}: give one environment.`);
  }
  if (flags.strategy && c.strategy && flags.strategy !== c.strategy) {
    return fail(`The request says ${c.strategy} but --strategy says ${flags.strategy}: choose one strategy.`);
  }
  const explicit = flags.strategy ?? c.strategy;
  let strategy = explicit;
  if (!strategy && steps) {
    strategy = 'canary';
    notes.push('traffic steps were given, so canary');
  }
  if (!strategy && hints.strategy) strategy = hints.strategy.value;
  if (steps && strategy !== 'canary') {
    return fail(`Traffic steps (${steps.join('% → ')}%) only apply to canary, but the request asks for ${strategy}.`);
  }
  if (explicit && hints.strategy && hints.strategy.value !== explicit) {
    notes.push(`kept ${explicit} as asked; '${hints.strategy.keyword}' alone would suggest ${hints.strategy.value}`);
  }

  const risk = flags.risk ?? hints.risk?.value;
  if (flags.risk && hints.risk && flags.risk !== hints.risk.value) {
    notes.push(`kept --risk ${flags.risk}; the text says '${hints.risk.keyword}'`);
  }
  let canarySteps = steps;
  if (!canarySteps && strategy === 'canary' && (hints.gentleSteps || risk === 'high')) canarySteps = GENTLE_CANARY_STEPS;

  for (const n of describeHints(hints)) {
    if (!notes.includes(n)) notes.push(n);
  }

  const missing: Array<'service' | 'version'> = [];
  if (!c.service) missing.push('service');
  if (!c.version) missing.push('version');
  let unknownService: string | undefined;
  let suggestions: string[] = [];
  if (!c.service && c.unknown.length > 0) {
    unknownService = c.unknown[0];
    const r = resolveService(unknownService, cfg);
    suggestions = r.kind === 'unknown' ? r.suggestions : [r.service.name];
    notes.push(
      suggestions.length > 0
        ? `no service named '${unknownService}'; did you mean ${suggestions.join(' or ')}?`
        : `no service named '${unknownService}' (known: ${cfg.services.map((s) => s.name).join(', ')})`,
    );
  }

  const candidate = {
    intent: 'deploy' as const,
    service: c.service,
    version: c.version,
    environment: flags.environment ?? c.environment,
    strategy,
    canarySteps,
    risk,
    dbMigration: hints.dbMigration?.value,
    guidance: flags.guidance,
    interactive: flags.interactive,
    regressionThresholdPct: flags.regressionThresholdPct,
    rollbackOnRegression: flags.rollbackOnRegression,
    focus: hints.focus.map((f) => f.value),
    timeline: hints.timeline?.value,
    scheduledAt,
    missing,
    unknownService,
    suggestions,
    notes,
  };
  const parsed = DeployRequest.safeParse(dropUndefined(candidate));
  if (!parsed.success) {
    return fail(`The request could not be understood: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}.`);
  }
  return { ok: true, command: parsed.data };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------
// rollback / status / cancel / lock / unlock

function parseOperation(
  kind: 'rollback' | 'status' | 'cancel' | 'lock' | 'unlock',
  rest: string,
  flags: Flags,
  cfg: ShipbotConfig,
): ParseResult {
  const words = normalisePhrases(rest)
    .split(/[ \t\r\n]+/)
    .filter(Boolean);
  const lower = words.map((w) => cleanToken(w).toLowerCase());
  const used = new Set<number>();
  const environments = new Set<Environment>(flags.environment ? [flags.environment] : []);
  lower.forEach((w, i) => {
    const env = environmentWord(w);
    if (!env || (w === 'stage' && !PREPOSITIONS.has(lower[i - 1] ?? ''))) return;
    environments.add(env);
    used.add(i);
    if (i > 0 && PREPOSITIONS.has(lower[i - 1])) used.add(i - 1);
  });
  if (environments.size > 1) return fail(`The request names two environments (${[...environments].join(' and ')}): give one.`);
  const environment = [...environments][0];

  // The service is the first word that is not filler; for lock the words after it are the reason.
  let service: string | undefined;
  let serviceAt = -1;
  for (let i = 0; i < lower.length; i++) {
    const w = lower[i];
    if (used.has(i) || !w || FILLERS.has(w) || OPERATION_FILLERS.has(w) || !/^[a-z][a-z0-9-]*$/.test(w)) continue;
    const r = resolveService(w, cfg);
    if (r.kind === 'unknown') {
      const hint =
        r.suggestions.length > 0
          ? ` Did you mean ${r.suggestions.join(' or ')}?`
          : ` Known services: ${cfg.services.map((s) => s.name).join(', ')}.`;
      return fail(`There is no service named '${cleanToken(words[i])}'.${hint}`);
    }
    service = r.service.name;
    serviceAt = i;
    break;
  }
  const reason =
    words
      .filter((_, i) => i > serviceAt && !used.has(i))
      .join(' ')
      .replace(/^(because|for|since|due to|reason:?|[-—:])\s*/i, '')
      .trim() || undefined;
  const env = environment ?? 'production';
  const command: ParsedCommand = (() => {
    switch (kind) {
      case 'rollback':
        return { intent: 'rollback', service, environment: env };
      case 'status':
        return { intent: 'status', service };
      case 'cancel':
        return { intent: 'cancel', service };
      case 'lock':
        return { intent: 'lock', service, environment: env, reason: serviceAt === -1 ? undefined : reason };
      case 'unlock':
        return { intent: 'unlock', service, environment: env };
    }
  })();
  return { ok: true, command: dropUndefined(command) };
}

const OPERATION_FILLERS = new Set([
  'deploy',
  'deployment',
  'run',
  'the',
  'of',
  'for',
  'please',
  'last',
  'current',
  'latest',
  'everything',
  'all',
]);
