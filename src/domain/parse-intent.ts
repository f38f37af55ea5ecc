// What a message is: a deploy, an operation (rollback, status, cancel, lock, unlock), or chatter,
// a question, a negation or past tense, which are refused with a reason.
import { editDistance } from './fuzzy.js';
import { EXAMPLE, cleanSlackText, normalisePhrases } from './parse-text.js';

// ---------------------------------------------------------------------------------------------
// Intent

export type Intent =
  | { kind: 'deploy'; rest: string; notes: string[] }
  | { kind: 'rollback' | 'status' | 'cancel' | 'lock' | 'unlock' | 'help' | 'stop-all' | 'resume-all'; rest: string }
  | { kind: 'chatter'; reason: string };

export const DEPLOY_VERBS = new Set(['deploy', 'redeploy', 'ship', 'shipit', 'release', 'rollout', 'golive', 'launch', 'push']);
export const STARTERS = new Set(['start', 'begin', 'run', 'execute', 'trigger', 'kickoff', 'initiate', 'perform', 'do', 'proceed']);
export const DEPLOY_NOUNS = new Set(['deploy', 'deployment', 'deploys', 'rollout', 'release', 'golive', 'go-live', 'launch', 'ship']);
/** After a deploy verb these make a statement about deploys, not an instruction. */
export const STATEMENT_WORDS = new Set([
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
export const OPERATIONS: Record<string, Exclude<Intent['kind'], 'deploy' | 'chatter'>> = {
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

/** Verbs a first word may be a typo of ("deplyo", "rollbak"): long enough that one slip is not another word. */
const TYPO_VERBS = ['deploy', 'release', 'rollback', 'rollout', 'revert', 'promote', 'upgrade', 'cancel', 'unlock', 'status', 'unfreeze'];
/** Forms of those verbs that are words in their own right ("deploys are slow" is not a typo). */
const FORMS = /^(?:deploy|releas|rollback|rollout|revert|promot|upgrad|cancel|unlock|status|unfreez|ship|push)\w*$/;

/** The message with a one-slip typo of a command verb in its first word put right, and what was read. */
export function fixVerbTypo(body: string): { text: string; note?: string } {
  const m = /^(\S+)(.*)$/s.exec(body);
  const word = m?.[1]?.toLowerCase() ?? '';
  if (word.length < 5 || FORMS.test(word)) return { text: body };
  const verb = TYPO_VERBS.find((v) => editDistance(word, v) === 1);
  return verb ? { text: `${verb}${m![2]}`, note: `read '${m![1]}' as '${verb}'` } : { text: body };
}

export function firstWords(text: string): string[] {
  return text.split(/[ \t\r\n]+/).map((w) => w.toLowerCase().replace(/^[("'*_]+|[)"'*_,.!:?]+$/g, ''));
}

export function detectIntent(body: string, slash: boolean): Intent | undefined {
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
  // An incident commander's stop of the line (before the negations: "stop …" is one of them).
  const stopAll = STOP_ALL.exec(text);
  if (stopAll) return { kind: 'stop-all', rest: text.slice(stopAll[0].length).replace(/^[\s:,;.-]+/, '') };
  if (RESUME_ALL.test(text.trim())) return { kind: 'resume-all', rest: '' };
  // Before the verbs: "do not deploy …" starts with a starter verb but forbids.
  if (NEGATION.test(text)) return { kind: 'chatter', reason: whyNotARequest(text) };

  // "shipit" (hubot's squirrel): cheering alone, the verb before a service.
  if (w0 === 'shipit' && words.length <= 2)
    return { kind: 'chatter', reason: `'${body}' sounds like cheering, not a request: say what to ship, ${EXAMPLE}.` };
  if (w0 === 'ship' && (w1 === 'it' || w1 === 'this' || w1 === 'that') && words.length <= 3) {
    return { kind: 'chatter', reason: `'${body}' sounds like cheering, not a request: say what to ship, ${EXAMPLE}.` };
  }
  if (DEPLOY_VERBS.has(w0)) {
    if (w1 && STATEMENT_WORDS.has(w1))
      return { kind: 'chatter', reason: `This is a statement about deploys ('${w0} ${w1} …'), not a request.` };
    // "deploy windows are 9-5", "release notes were late": the verb is a noun's first word.
    if (w1 && /^(?:is|are|was|were)$/.test(lower[2] ?? ''))
      return { kind: 'chatter', reason: `This is a statement ('${w0} ${w1} ${lower[2]} …'), not a request.` };
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
  // "lock is held by alice", "rollback is done": a statement about the operation, as for deploy verbs.
  if (op && op !== 'help' && w1 && STATEMENT_WORDS.has(w1) && w1 !== 'status')
    return { kind: 'chatter', reason: `This is a statement ('${w0} ${w1} …'), not a request.` };
  // "help" is a request on its own ("help", "help me please"); in a sentence it is chatter.
  if (op === 'help' && words.length > 3) return undefined;
  if (op) return { kind: op, rest: restAfter(1) };
  if (slash) return { kind: 'deploy', rest: text, notes: [] };
  return undefined;
}

/** "stop all deploys <reason>", "halt the line: db outage". */
export const STOP_ALL = /^(stop|halt|pause|freeze)\s+(all\s+(the\s+)?(deploys|deployments|releases|rollouts)|the\s+line)\b/i;
/** "resume deploys", "resume all deployments", "restart the line". */
export const RESUME_ALL = /^(resume|unfreeze|unpause|restart)\s+(all\s+)?(the\s+)?(deploys|deployments|releases|rollouts|line)\s*[.!]?$/i;

export const QUESTION_START =
  /^(who|what|whats|what's|when|where|why|how|which|whose|did|does|do|is|are|was|were|should|shall|will|would|can|could|has|have|any|anyone|anybody|someone|somebody)\b/i;
export const NEGATION =
  /^(don'?t|do not|dont|never(?!\s+mind)|no|not|nobody|stop(?!\s+and\b)(?!.*\b(?:and|then)\s+(?:go|roll|revert|undo|take)\b)|avoid|shouldn'?t|can'?t|won'?t|mustn'?t|please don'?t|pls don'?t)\b/i;
export const PAST = /\b(deployed|shipped|released|rolled|redeployed|launched|reverted|went live|was deployed|were deployed|pushed)\b/i;
export const PROGRESSIVE = /\b(deploying|shipping|releasing|rolling|launching)\b/i;
export const MENTIONS_DEPLOY = /\b(deploy\w*|ship\w*|release\w*|roll\w* ?out|rollback|go ?live)\b/i;

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
