// Understanding a message the phrase rules did not read: intents from lexicons of cue words found
// anywhere in the sentence, slots (service, version, environment, strategy) found wherever they
// stand. Conservative by design: an action needs a service the catalogue knows by name or alias
// (a deploy also a version), and a cue in a form that asks for something now: not past tense
// ("rolled back checkout"), not a statement ("the checkout release was great"), not negated,
// not a who/why question. What it reads is handed back as the canonical request
// (`deploy checkout v1.2.3 to staging`), so every check on the usual path still applies. Pure.
import type { ShipbotConfig } from './config-schema.js';
import { environmentWord, strategyWord } from './parse-flags.js';
import { normalisePhrases } from './parse-text.js';

export interface Understood {
  /** The request in canonical words: `deploy checkout v1.2.3 to staging`, `rollback search`, `help`. */
  text: string;
  /** Asked as a question or an offer-shaped ask ("would you mind …?", "how about we …?"). */
  asked: boolean;
  /** Put as a polite request ("can you …", "mind …", "any chance …"): a request, not a question. */
  polite: boolean;
}

type Kind = 'help' | 'status' | 'unlock' | 'lock' | 'rollback' | 'cancel' | 'deploy';

/** Who/why/when questions ask about people and causes ("who rolled back checkout?"), never for an action. */
const ABOUT_OTHERS = /^(?:who|whose|why|when)\b/;
const NEGATED =
  /\b(?:don'?t|do\s+not|dont|never(?!\s+mind)|not|no\s+more|shouldn'?t|can'?t|cannot|won'?t|mustn'?t|stop(?!\s+and\b)(?!.*\b(?:and|then)\s+(?:go|roll|revert|undo|take)\b))\b/;
/** A sentence that reports on a deploy rather than asking for one. */
const STATEMENT = /\b(?:was|were|went|broke|took|looked|looks|seemed|seems|had|failed|worked|succeeded)\b/;
const ASKING =
  /^(?:can|could|would|will|may|might|shall|should|mind|any\s+chance|is\s+it|would\s+it|how\s+about|what\s+about|do\s+you\s+mind|are\s+you\s+able)\b/;
const POLITE =
  /^(?:(?:can|could|would|will|may)\s+(?:you|we|i|someone|somebody|anyone|u)|mind|do\s+you\s+mind|any\s+chance|is\s+it\s+possible|would\s+it\s+be|how\s+about|what\s+about|are\s+you\s+able)\b/;

/** "what do I type to deploy?": asking how to ask the bot. */
const HOW_TO_ASK = 'what\\s+(?:do|should|can)\\s+i\\s+(?:type|say|write|ask)';
/** "what commands are there?", "list the features", "the rollback command": asking what the bot takes. */
const LIST_COMMANDS = new RegExp(
  `^(?:what|which|list|show|explain|any)\\b.*\\b(?:commands|capabilities|features|examples|usage)\\b|^(?:${HOW_TO_ASK})\\b|\\b(?:the|a)\\s+\\w+\\s+command\\b`,
);
const BOT = /\b(?:you|your|shipbot|bot|this\s+thing|this|it|here)\b/;
const OPERATION_NOUNS =
  /\b(?:rollback|revert|lock|freeze|cancel|status)\s+(?:plans?|strateg(?:y|ies)|procedures?|runbooks?|docs?|buttons?|tests?|scripts?|process|steps?|files?|screens?|periods?|windows?|polic(?:y|ies)|pages?)\b/g;
/** Phrases (regex fragments) to one regex that finds any of them as whole words. */
const anyOf = (phrases: string[]) => new RegExp(`\\b(?:${phrases.join('|')})\\b`);

const GERUNDS = ['deploying', 'shipping', 'releasing', 'rolling', 'promoting', 'upgrading', 'pushing', 'launching'];
const GERUND = anyOf(GERUNDS);
const ENV_WORDS = 'prod|production|staging|stg|stage';
/** A deploy asked for: the verbs, "wants … in prod", "… to staging", "-> 1.2.3", "be deployed". */
const BASE_DEPLOY = new RegExp(
  [
    anyOf([
      'deploy',
      'redeploy',
      'ship',
      'release',
      'rollout',
      'promote',
      'upgrade',
      'update',
      'bump',
      'push',
      'launch',
      'golive',
      'go\\s+(?:out|live|to|for|with)',
      'good\\s+to\\s+go',
      'go\\s+ahead',
      'proceed',
      'move',
      'switch',
      'install',
      'request(?:ing)?',
      'start',
      'begin',
      'trigger',
      'publish',
      'apply',
      'activate',
      'cut\\s*over',
      'flip',
      'land',
      'approve',
      'downgrade',
      'green[- ]?light',
      'kickoff',
      'get',
      'put',
      'roll',
    ]).source,
    `\\b(?:want|wants|need|needs)\\b.*\\b(?:in|on|to|into)\\s+(?:${ENV_WORDS}|live)\\b`,
    `(?:->|→|=>|\\bto|\\binto|\\bonto)\\s*(?:${ENV_WORDS})\\b`,
    '(?:->|→|=>)\\s*v?\\d',
    `\\bready\\s+for\\s+(?:${ENV_WORDS})\\b`,
    // "(let's) do checkout 1.2.3 on staging": "let's" is dropped before this reads it.
    '^do\\b',
    '\\bdo\\s+(?:a|an|the)\\s+(?:canary|rollout|deploy|release|blue-green|rolling)\\b',
    '\\b(?:want|wants|need|needs)\\b.*\\b(?:on|to|at)\\s+v?\\d',
    '\\b(?:be|get|have|like|want|wants|need|needs)\\s+(?:\\S+\\s+){0,2}(?:deployed|shipped|released|promoted|upgraded|pushed|rolled\\s+out)\\b',
  ].join('|'),
);
const BOT_NAME = '(?:you|shipbot|this\\s+bot)';
/** Each intent's cue words and phrases, found anywhere in the sentence. */
const LEXICON: Record<Kind, RegExp> = {
  help: anyOf([
    'help',
    'halp',
    HOW_TO_ASK,
    'how\\s+(?:does|do)\\s+(?:deploying|deploys?|deployments?|releasing|releases?|rollbacks?|shipping)\\s+work',
    'commands?',
    'capabilit(?:y|ies)',
    'capable\\s+of',
    'features',
    'usage',
    'examples',
    'cheat\\s*sheet',
    'syntax',
    'able\\s+to\\s+do',
    '(?:can|could)\\s+(?:you|it|shipbot|this\\s+bot|i)\\s+(?:do|ask|say)',
    '(?:you|it|shipbot)\\s+can\\s+do',
    'what\\s+do\\s+you\\s+do',
    'what\\s+are\\s+you\\s+(?:for|about)',
    `how\\s+(?:do|can|should)\\s+(?:i|we)\\b.*\\b${BOT_NAME}`,
    'how\\s+(?:does|do)\\s+(?:this\\s+bot|the\\s+bot|this\\s+thing|this|it|you|shipbot)\\s+work',
    `how\\s+to\\s+use\\s+${BOT_NAME}`,
    `(?:docs|documentation|manual|guide)\\b.*\\b${BOT_NAME}`,
  ]),
  status: anyOf([
    "how(?:'?s|\\s+is|\\s+are)",
    'status(?!\\s+(?:page|pages|code|codes|bar|light|quo)\\b)',
    'progress',
    'eta',
    'tell\\s+me\\s+about',
    'show(?:\\s+me)?',
    'stand',
    'standing',
    'updates?',
    'news',
    'going',
    'doing',
    'looking',
    'coming\\s+along',
    'done',
    'finished',
    'complete',
    'completed',
    'at',
    'still\\s+\\w+ing',
    'in\\s+flight',
    'in\\s+progress',
    'right\\s+now',
    'how\\s+did',
    'how\\s+far',
    'how\\s+(?:much\\s+)?long(?:er)?',
    'running',
    'ongoing',
    'happening',
    "what'?s\\s+up",
    'whats\\s+up',
    'what\\s+stage',
    'there\\s+yet',
    'started',
    'begun',
    'kicked\\s+off',
    'state',
    'health',
    // "check on checkout"; not "check the catalog dashboard", which asks a person to look.
    'check(?:\\s+on)?(?!.*\\b(?:dashboards?|graphs?|logs?|alerts?|metrics|grafana|pr|prs|code|email|tickets?)\\b)',
    'sitrep',
    'report\\s+on',
    'catch\\s+me\\s+up',
    'update\\s+me',
    'did\\b.*\\b(?:finish|complete|succeed|land|go\\s+(?:out|through|ok|well))',
  ]),
  unlock: anyOf([
    'unlock',
    'unfreeze',
    'unblock',
    'unhold',
    'reopen',
    're-open',
    '(?:lift|remove|clear|end|drop|take|release|lifting|ending)\\b.*\\b(?:lock|freeze|hold|block)',
    'off\\s+hold',
    '(?:let|allow)\\s+\\S+\\s+deploy\\s+again',
    'can\\s+deploy\\s+again',
    '(?:clear|free|ok|okay|good)\\s+to\\s+(?:deploy|ship|release)\\b.*\\bagain',
    '(?:can|may)\\s+be\\s+(?:deployed|released|shipped)\\s+again',
    '(?:deploys|deployments)\\s+(?:can|may)\\s+resume',
    'open\\b.*\\bfor\\s+(?:deploys|deployments|releases)',
    'resume\\s+(?:deploys|deployments|releases)',
    '(?:allow|enable)\\s+(?:deploys|deployments|releases)',
  ]),
  lock: anyOf(['lock', 'freeze', 'hold', 'block', 'halt', 'embargo', 'no\\s+(?:deploys|deployments|releases)']),
  rollback: anyOf([
    'rollback',
    'revert',
    'undo',
    'back\\s*out',
    'roll\\b.*\\bback',
    'go\\s+back',
    'take\\b.*\\bback',
    'put\\b.*\\bback',
    'restore',
    'previous\\s+(?:version|release|build)',
    'last\\s+good',
    'reverse',
    'downgrade',
    'yank',
    'pull\\b.*\\bback',
    // Participles: a request only as "needs to be rolled back" (WANTED_DONE), else a report.
    'rolled\\s+back',
    'reverted',
    'backed\\s+out',
  ]),
  cancel: anyOf(['cancel', 'call\\s+off', 'scrap', 'forget', 'nevermind', 'never\\s+mind', 'nix', 'withdraw', 'discard', 'drop\\s+the']),
  deploy: new RegExp(`${BASE_DEPLOY.source}|${GERUND.source}`),
};
/** The deploy cues in their -ing form need a frame that asks ("mind shipping", "start rolling out"). */
const GERUND_FRAME = new RegExp(
  `\\b(?:mind|about|start|begin|keep|try|consider|recommend|suggest)\\s+(?:\\S+\\s+)?(?:${GERUNDS.join('|')})\\b`,
);
/**
 * A deploy word as a noun: a modifier ("release notes", "deploy window") or after a determiner
 * ("is a big release", "the next update"). Verbs around it ("go ahead with the … release") still count.
 */
const NOUN_USE =
  /\b(?:deploy|deployment|release|ship|rollout|push|update|upgrade)\s+(?:notes?|pipeline|queue|window|bot|logs?|script|jobs?|process|train|branch|candidate|party|manager|calendar|checklist|date|day|time|plan|page|cadence|schedule)\b|\b(?:a|an|the|this|that|our|their|its)\s+(?:(?:big|small|new|major|minor|next|last|latest|first|huge|risky)\s+)?(?:deploy|deployment|release|ship|rollout|push|update|upgrade)\b/g;
const COURTESY = new Set([
  'please',
  'pls',
  'plz',
  'thanks',
  'thx',
  'ty',
  'now',
  'today',
  'asap',
  'kindly',
  'shipbot',
  '@shipbot',
  'hey',
  'hi',
]);
/** What a person asks for first when several cues meet ("take the lock off" is an unlock, not a rollback). */
const ORDER: Kind[] = ['unlock', 'lock', 'rollback', 'cancel', 'deploy', 'status', 'help'];

/** A version as people type one: 1.2.3, v2.0.1, 1.4.0-rc.1, v3; a word after "version" or "tag". */
const VERSION_LIKE = /^v?\d+(?:\.\d+)+(?:[-+][0-9a-z][\w.+-]*)?$|^v\d+$/i;
/** A version with something stuck to it (`v1.2.3\`id\``, `1.2.3;rm`): kept whole, so it is refused, never trimmed. */
const VERSION_WITH_MORE = /^v?\d+\.\d+\S*[^\w.+-]/i;
/** Where a version stands right after the service, shell characters make it one to refuse (`checkout $(id)`). */
const ARROW = /^(?:-+>|=>|→)$/;
const SHELL = /[;|`$<>\\{}&]/;

interface Slots {
  services: string[];
  version?: string;
  versions: number;
  environment?: string;
  /** Words that are no slot: read again on the usual path for guidance, steps and schedule. */
  rest: string[];
  /** The words after the service (a lock's reason). */
  after: string[];
  /** Nothing but slots and courtesy ("checkout 1.2.3 please"). */
  bare: boolean;
}

/** Words that only frame a slot: left out of the rest with it. */
const SLOT_FRAMES = new Set(['to', 'in', 'into', 'on', 'onto', 'from', 'version', 'tag', 'build', 'of', 'for']);

function slots(raw: string[], lower: string[], cfg: ShipbotConfig): Slots {
  const s: Slots = { services: [], versions: 0, rest: [], after: [], bare: false };
  const versions: string[] = [];
  const used = new Set<number>();
  const serviceWords = new Set<number>();
  lower.forEach((w, i) => {
    // `checkout@1.2.3`, `checkout:1.2.3`: the service and the version in one word.
    const joined = /^([a-z][a-z0-9-]*)[@:](.+)$/.exec(w);
    const name = joined ? joined[1]! : w;
    // Only a name or an alias: a near miss in a sentence is more often a word than a typo.
    const known = cfg.services.find((x) => x.name === name || x.aliases.some((a) => a.toLowerCase() === name));
    if (known && !s.services.includes(known.name)) s.services.push(known.name);
    const afterService = serviceWords.has(i - 1) && !ARROW.test(w);
    const version = joined
      ? raw[i]!.slice(joined[1]!.length + 1)
      : VERSION_LIKE.test(w) ||
          VERSION_WITH_MORE.test(w) ||
          (afterService && SHELL.test(w)) ||
          (/^(?:version|tag|build)$/.test(lower[i - 1] ?? '') && /\d/.test(w))
        ? raw[i]!
        : undefined;
    if (known) serviceWords.add(i);
    if (version !== undefined) versions.push(version);
    // "promote checkout 1.2.3 from staging": staging is where it comes from, not where it goes.
    const env = known || version !== undefined ? undefined : environmentWord(w);
    if (env && lower[i - 1] !== 'from') s.environment = env;
    if (!known && version === undefined && !env) return;
    used.add(i);
    // The word that frames a slot goes with it ("for checkout", "to staging", "version 1.2.3").
    if (SLOT_FRAMES.has(lower[i - 1] ?? '')) used.add(i - 1);
  });
  // A cue in its -ing form is no strategy: "mind rolling out …" asks for a deploy, not a rolling one.
  lower.forEach((w, i) => {
    if (GERUND.test(w) && (w !== 'rolling' || lower[i + 1] === 'out')) used.add(i);
  });
  s.rest = raw.filter((_, i) => !used.has(i));
  s.bare = s.rest.every((w) => COURTESY.has(w.toLowerCase()) || SLOT_FRAMES.has(w.toLowerCase()) || strategyWord(w));
  const serviceAt = Math.min(...serviceWords);
  s.after = raw.filter((_, i) => i > serviceAt && !used.has(i));
  // "upgrade checkout from 1.0.0 to 1.2.3": the version it goes to.
  const from = lower.indexOf('from');
  const kept = versions.length === 2 && from !== -1 ? versions.slice(1) : versions;
  s.versions = new Set(kept).size;
  s.version = kept[0];
  return s;
}

/** What a message asks for when the phrase rules read nothing, or undefined: not a request. */
export function understand(body: string, cfg: ShipbotConfig): Understood | undefined {
  const text = normalisePhrases(body).toLowerCase().replace(/\s+/g, ' ').trim();
  if (!text || ABOUT_OTHERS.test(text) || NEGATED.test(text)) return undefined;
  const raw = normalisePhrases(body).trim().split(/\s+/).map(clean);
  const lower = raw.map((w) => w.toLowerCase());
  // "a rollback plan", "the lock file": an operation's word as a noun is no cue.
  const sentence = lower.join(' ').replace(OPERATION_NOUNS, ' ');
  const s = slots(raw, lower, cfg);
  if (s.services.length > 1 || s.versions > 1) return undefined;
  const service = s.services[0];
  const asked = /\?\s*$/.test(body) || ASKING.test(sentence);
  const polite = POLITE.test(sentence);

  // "shipbot?": the bot's name alone asks what it does.
  if (/^@?shipbot$/.test(sentence)) return { text: 'help', asked, polite };
  // "payments?": a service on its own, asked about.
  if (service && asked && lower.length === 1) return { text: `status ${service}`, asked, polite };
  const question = asked || /^(?:how|what|where|is|are|has|have|did|does|any)\b/.test(sentence);
  // "checkout 1.2.3 please": nothing but the slots and courtesy asks for a deploy.
  const cues = ORDER.filter((k) => LEXICON[k].test(sentence) || (k === 'deploy' && s.bare));
  const doing = reportsDoing(text);
  for (const kind of cues) {
    const order = orderClause(text, kind);
    const canonical = read(kind, { sentence, judged: order?.clause ?? sentence, question, doing }, s, service);
    // "payments looks broken, can you roll it back?" is a request put politely.
    if (canonical) return { text: canonical, asked, polite: polite || !!order?.polite };
  }
  return undefined;
}

/** What may stand before the order in its clause: "please", "can you", "could we". */
const ORDER_FRAME = /^(?:(?:please|pls|plz|just|now|ok|and)\s+|(?:can|could|would|will)\s+(?:you|we|someone|u)\s+(?:please\s+)?)+/;

/** The clause that gives the order when a report comes first ("payments looks bad, revert it"). */
function orderClause(text: string, kind: Kind): { clause: string; polite: boolean } | undefined {
  const lead = new RegExp(`^(?:${LEXICON[kind].source})`);
  for (const c of text.split(/\s*(?:[,;:!]|\s-\s|\.\s)\s*|\s+(?:and|so|then)\s+/).slice(1)) {
    const clause = c.replace(ORDER_FRAME, '').replace(/[.!?]+$/, '');
    if (lead.test(clause)) return { clause, polite: POLITE.test(c) };
  }
  return undefined;
}

interface Sentence {
  sentence: string;
  /** What statement, past-tense and report checks look at: the ordering clause if there is one. */
  judged: string;
  question: boolean;
  /** A clause reports what someone is doing ("ok team, deploying web 7.5.0 now"). */
  doing: boolean;
}

/** "deploying checkout v1.2.3 now", "ok team, deploying …": what someone is doing, reported. */
function reportsDoing(text: string): boolean {
  return text
    .split(/[,;:.!]\s*/)
    .some((c) =>
      /^(?:ok\s+|okay\s+)?(?:i'?m|i\s+am|we'?re|we\s+are|just|now)?\s*(?:deploying|shipping|releasing|rolling|pushing)\b/.test(c),
    );
}

function read(kind: Kind, { sentence, judged, question, doing }: Sentence, s: Slots, service: string | undefined): string | undefined {
  const env = s.environment ? ` in ${s.environment}` : '';
  switch (kind) {
    case 'help':
      // About the bot, not help with something else ("can someone help me with kubectl?").
      if (service || !(BOT.test(sentence) || LIST_COMMANDS.test(sentence) || sentence.split(' ').length <= 2)) return undefined;
      // ... nor help with something else ("help me understand this graph").
      if (/\bhelp\s+(?:me\s+|us\s+)?with\s+\S|\bhelp\s+(?:me|us)\s+(?!use\b|with\b|out\b|please\b)\w/.test(sentence)) return undefined;
      return 'help';
    case 'status':
      if (STATEMENT.test(sentence) && !/^how\s+did\b/.test(sentence)) return undefined;
      // "checkout status page is down", "rolling update complete for web": statements, not questions.
      if (!question && /\b(?:is|are|was|were|complete|completed|done|finished)\b/.test(sentence)) return undefined;
      // "the web release notes need an update": told about a thing, not asked.
      if (!question && /^(?:the|our|my|this|that|their)\b/.test(sentence)) return undefined;
      if (service) return `status ${service}`;
      // Without a service, only a question about what is deploying now.
      return /\b(?:deploying|rolling\s+out|in\s+flight|in\s+progress|releasing)\b/.test(sentence) &&
        /^(?:what|is|are|anything)\b/.test(sentence)
        ? 'status'
        : undefined;
    case 'deploy': {
      if (!service || !s.version || STATEMENT.test(judged) || reportsPast(judged)) return undefined;
      // "release notes", "deploy window": a noun, not a cue.
      const verbs = sentence.replace(NOUN_USE, ' ');
      const cue = BASE_DEPLOY.test(verbs) || (GERUND.test(verbs) && GERUND_FRAME.test(verbs));
      if (!cue && !s.bare) return undefined;
      if (doing) return undefined;
      const to = s.environment ? ` to ${s.environment}` : '';
      return `deploy ${service} ${s.version}${to} ${s.rest.join(' ')}`.trim();
    }
    default:
      // "downgrade checkout to 1.2.2" names the version it goes to: a deploy of it.
      if (kind === 'rollback' && s.version && /\bdowngrade\b/.test(sentence)) return undefined;
      // Rollback, cancel, lock and unlock act on a service the message names.
      if (!service || STATEMENT.test(judged) || reportsPast(judged)) return undefined;
      // "web needs to be rolled back" asks for it; "rolled back web" reports it.
      if (PAST[kind].test(judged) && !WANTED_DONE.test(judged)) return undefined;
      return `${kind} ${service}${env}${kind === 'lock' && s.after.length ? ` ${s.after.join(' ')}` : ''}`;
  }
}

/** A participle that says what is wanted done: "needs to be rolled back", "should be reverted". */
const WANTED_DONE = /\b(?:needs?\s+to\s+be|has\s+to\s+be|have\s+to\s+be|should\s+be|must\s+be|wants?\s+to\s+be)\s+\w+/;

const PAST: Record<'unlock' | 'lock' | 'rollback' | 'cancel', RegExp> = {
  unlock: /\b(?:unlocked|unfrozen|unblocked|lifted|removed|cleared)\b/,
  lock: /\b(?:locked|frozen|froze|blocked|held|halted)\b/,
  rollback: /\b(?:rolled|reverted|undid|undone|restored)\b/,
  cancel: /\b(?:cancelled|canceled|scrapped|called\s+off)\b/,
};

/** A past-tense verb ("the payments rollback saved us") reports; after need/want/get it asks ("need checkout deployed"). */
function reportsPast(sentence: string): boolean {
  if (/\b(?:need|needs|want|wants|get|have|be|like)\b/.test(sentence)) return false;
  return sentence.split(' ').some((w) => /^[a-z]{3,}ed$/.test(w) && !NOT_PAST.has(w));
}
const NOT_PAST = new Set(['need', 'speed', 'feed', 'seed', 'embed', 'shed', 'breed', 'exceed', 'proceed', 'succeed']);

function clean(word: string): string {
  return word.replace(/^[(["'*_~]+/, '').replace(/[)\]"'*_~,.!?:;]+$/, '');
}
