// How people actually ask, brought to the forms the rules read: each intent has a lexicon of
// verbs and phrases beyond the canonical ones (promote, upgrade, roll forward, get … out; undo,
// back out, back to the previous version; is it done, how is … going; freeze deploys for …, lift
// the lock; what can you do), and polite or question-shaped asks ("can we get …", "could someone
// …?") are read as the request they carry, marked `asked` so the reply is an offer. Words learned
// from chat-ops usage (hubot-deploy, Shipit, GitHub's branch-deploy, runbooks). Pure.

export interface Rephrased {
  /** The message in a form the intent rules read (`deploy …`, `rollback …`, `status …`). */
  text: string;
  /** Asked as a question or a polite request ("can we …", "could someone …?"): answer with an offer. */
  asked: boolean;
  /** Put as a polite request ("can we …", "could someone …"): a request, not a question about one. */
  polite: boolean;
  /** Told as the speaker's own plan ("I'll deploy search after lunch"): a request only if it is whole. */
  plan: boolean;
  /** Read through a verb of the lexicon ("upgrade", "promote"), not a canonical one. */
  synonym: boolean;
}

const ENV = '(prod|production|live|staging|stg|stage)';
/** An environment something comes from: not captured. */
const FROM = ENV.replace('(', '(?:');
const NOUN = '(deploy|deploys|deployment|deployments|rollout|rollouts|release|releases|roll-out)';

/** A polite request's opener ("can we", "could someone"): dropped; the message is asked, and polite. */
const POLITE =
  /^(?:can|could|would|will)\s+(?:we|someone|somebody|anyone|anybody|you\s+guys|u|ya|y'?all)\s+(?:please\s+|pls\s+|kindly\s+|maybe\s+|just\s+)?/i;
/** Openers that ask whether to do what follows: dropped, and the message is marked asked. */
const ASKING: RegExp[] = [
  POLITE,
  /^(?:is\s+it\s+ok(?:ay)?|is\s+it\s+fine|ok)\s+(?:if\s+(?:i|we)\s+|to\s+)/i,
  /^(?:mind\s+if\s+(?:i|we)|any\s+chance\s+(?:you|we|someone)\s+(?:could|can))\s+/i,
  /^(?:shall|should)\s+(?:we|i)\s+/i,
];

/** Openers that tell the speaker's own plan: a request only when it names all it needs. */
const PLAN = /^(?:i'?ll|we'?ll|i\s+will|we\s+will|i'?m\s+going\s+to|we'?re\s+going\s+to|going\s+to|gonna)\s+/i;
/** Openers that say what is wanted without asking: dropped. */
const WANTING =
  /^(?:(?:i|we)'?d\s+(?:like|love)\s+to\s+see|(?:i|we)\s+would\s+(?:like|love)\s+to\s+see|i'?d\s+like\s+to|i\s+would\s+like\s+to|i\s+want\s+to|we\s+want\s+to|i\s+need\s+to|we\s+need\s+to|need\s+to|we\s+should|time\s+to|ready\s+to|(?:we'?re|we\s+are|i'?m|i\s+am)\s+ready\s+for|i'?m\s+going\s+to|we'?re\s+going\s+to|going\s+to|gonna|let'?s\s+go\s+ahead\s+and|go\s+ahead\s+and|please\s+go\s+ahead\s+and|i'?ll|we'?ll|i\s+will|we\s+will)\s+/i;

/** Closing courtesies that carry nothing. */
const CLOSING = /[\s,]+(?:please|pls|plz|thanks|thank\s+you|thx|ty|asap|when\s+you\s+can|if\s+possible|🙏)[\s.!?]*$/i;

/** Not followed by a way back ("… and go back", "then roll it back"). */
const NOT_BACK = '(?!.*\\b(?:and|then)\\s+(?:go|roll|revert|undo|take|put)\\b)';

type Rule = [RegExp, string | ((...m: string[]) => string)];

/** Each intent's lexicon, as rewrites to the canonical verb. Order matters: the first that matches wins. */
const RULES: Rule[] = [
  // --- help: asking what the bot can do, in a sentence.
  [/^(?:what|which)\s+(?:can|do|could)\s+(?:you|shipbot|this\s+bot)\s+(?:do|support|understand|handle)\b.*$/i, 'help'],
  [/^how\s+(?:do|can|should)\s+(?:i|we)\s+(?:use|talk\s+to|work\s+with|ask|drive)\s+(?:you|shipbot|this\s+bot|this|it)\b.*$/i, 'help'],
  [/^(?:what\s+are|list|show(?:\s+me)?)\s+(?:your\s+|the\s+|all\s+(?:the\s+)?)?(?:commands|options|features)\b.*$/i, 'help'],
  [/^(?:what\s+is|what'?s|who\s+is|who\s+are)\s+(?:shipbot|you)\b.*$/i, 'help'],
  // "help me", "help me use shipbot"; not "help me understand this graph".
  [
    /^(?:help\s+me|help\s+please|i\s+need\s+help)(?:\s+(?:please|pls|out|use\s+(?:you|shipbot|this\s+bot|it)|with\s+(?:you|shipbot|this\s+bot|deploys?)))?\s*[.!?]*$/i,
    'help',
  ],

  // --- status, in ordinary words.
  [
    new RegExp(
      `^how(?:'?s|\\s+is|\\s+are)\\s+(?:the\\s+|our\\s+|my\\s+)?(.*?)(?:\\s+${NOUN})?\\s+(?:going|doing|looking|coming\\s+along|progressing)\\b.*$`,
      'i',
    ),
    (_, r) => `status ${r}`,
  ],
  [
    new RegExp(
      `^(?:is|are|has|have)\\s+(?:the\\s+|our\\s+|my\\s+)?(.*?)(?:\\s+${NOUN})?\\s+(?:been\\s+)?(?:done|finished|complete|completed|over|live|out|through|healthy|stable|ok|okay|still\\s+running|still\\s+going|rolled\\s+out|deployed|shipped)\\b.*$`,
      'i',
    ),
    (_, r) => `status ${r}`,
  ],
  [
    /^(?:what'?s|what\s+is)\s+(?:the\s+)?(?:status|progress|state|latest|news|deal|word|story|scoop)\s+(?:on|of|with|for)\s+(.*)$/i,
    (_, r) => `status ${r}`,
  ],
  [/^are\s+we\s+(?:good|ok|okay|done|finished|all\s+set|there\s+yet)\s+(?:on|with|for)\s+(.*)$/i, (_, r) => `status ${r}`],
  [/^(?:what'?s|what\s+is)\s+(?:happening|going\s+on)\s+with\s+(.*)$/i, (_, r) => `status ${r}`],
  // "what version of catalog is live?": the status names it.
  [
    /^(?:what|which)\s+(?:version|build|release|tag)\s+(?:of\s+)?(?:the\s+)?(\S+)\s+(?:is|are)\s+(?:live|running|deployed|out|serving|in\s+\S+|on\s+\S+)\b.*$/i,
    (_, r) => `status ${r}`,
  ],
  [/^(?:what|which)\s+(?:version|build|release|tag)\s+(?:is|are)\s+(\S+)\s+(?:on|at|running)\b.*$/i, (_, r) => `status ${r}`],
  [/^(?:any\s+)?(?:news|update|updates|progress|eta)\s+(?:on|about|for|with)\s+(.*)$/i, (_, r) => `status ${r}`],
  [/^where\s+(?:are\s+we|is\s+it|do\s+we\s+stand|are\s+things)\s+(?:with|on|at)\s+(.*)$/i, (_, r) => `status ${r}`],
  [/^(?:how\s+far\s+along\s+is|how\s+far\s+is)\s+(.*)$/i, (_, r) => `status ${r}`],
  [/^(?:status\s+(?:check|update|report)|check\s+(?:on\s+)?(?:the\s+)?status(?:\s+of)?)\b\s*(.*)$/i, (_, r) => `status ${r}`],
  [
    /^(?:(?:is|are)\s+)?(?:anything|something|anyone|anybody)\s+(?:deploying|being\s+deployed|rolling\s+out|in\s+flight|shipping|releasing)\b.*$/i,
    'status',
  ],
  [/^(?:current|latest|overall)\s+status\b\s*(?:of|on|for)?\s*/i, 'status '],
  [
    /^(?:what'?s|what\s+is|what\s+are)\s+(?:currently\s+|still\s+|now\s+)?(?:deploying|being\s+deployed|rolling\s+out|in\s+flight|going\s+out|shipping)\b.*$/i,
    'status',
  ],
  [
    new RegExp(
      `^(?:(?:is|are)\\s+(?:there\\s+)?)?(?:any|some)\\s+(?:${NOUN.slice(1, -1)})\\s+(?:running|going|going\\s+on|in\\s+flight|in\\s+progress|happening|active|ongoing|underway)\\b.*$`,
      'i',
    ),
    'status',
  ],
  [/^(?:what'?s|what\s+is)\s+(?:currently\s+)?running(?:\s+(?:now|right\s+now))?$/i, 'status'],
  [/^(?:show|give|get|tell)\s+(?:me\s+|us\s+)?(?:the\s+|a\s+|an\s+)?(?:current\s+|quick\s+)?status\b(?:\s+(?:of|on|for))?\s*/i, 'status '],

  // --- rollback, in other words (before cancel: aborting a live rollout puts the old version back).
  [/^(?:undo|back\s*out|unroll|unship|revert)\s+(?:the\s+)?(?:last\s+|latest\s+|current\s+)?/i, 'rollback '],
  [
    /^(?:roll|go|switch|revert|put|take|move|bring|get)\s+(\S+)\s+back\b\s*(?:to\s+(?:the\s+)?(?:previous|last|prior|old|earlier|last\s+good|stable)\s+(?:version|release|build))?/i,
    (_, s) => `rollback ${s}`,
  ],
  [
    /^(?:go|roll|switch|revert|put\s+it|take\s+it)\s+back\s+(?:to\s+)?(?:the\s+)?(?:previous|last|prior|old|earlier|last\s+good|stable)\s+(?:version|release|build)(?:\s+(?:of|for|on))?\s*/i,
    'rollback ',
  ],
  [
    /^back\s+to\s+(?:the\s+)?(?:previous|last|prior|old|earlier|last\s+good|stable)\s+(?:version|release|build)(?:\s+(?:of|for|on))?\s*/i,
    'rollback ',
  ],
  [
    /^(?:restore|reinstate)\s+(?:the\s+)?(?:previous|last|prior|old|earlier|last\s+good|stable)\s+(?:version|release|build)(?:\s+(?:of|for|on))?\s*/i,
    'rollback ',
  ],
  [
    new RegExp(
      `^(?:abort|kill|stop|pull)\\s+(?:the\\s+)?(?:live|running|current|ongoing|in-flight|in\\s+flight|active|bad)\\s+(?:${NOUN}\\s+)?(?:of\\s+|for\\s+)?`,
      'i',
    ),
    'rollback ',
  ],
  // "yank the catalog release", "pull back web": what went out is taken back.
  [new RegExp(`^(?:yank|pull)\\s+(?:the\\s+)?(\\S+)\\s+(?:${NOUN}|canary|build|version)\\b`, 'i'), (_, s) => `rollback ${s}`],
  [/^(?:yank|pull)\s+(\S+)\s+back\b/i, (_, s) => `rollback ${s}`],
  [/^(?:yank|pull\s+back)\s+(?:the\s+)?/i, 'rollback '],
  // "abort the checkout canary", "kill the web deploy": what is going out is stopped and the old version put back.
  [new RegExp(`^(?:abort|kill|pull)\\s+(?:the\\s+)?(\\S+)\\s+(?:${NOUN}|canary|canaries)\\b`, 'i'), (_, s) => `rollback ${s}`],

  // --- cancel: calling off what has not gone out (a cancel after a change rolls back).
  [new RegExp(`^(?:call\\s+off|scrap|drop|nix)\\s+(?:the\\s+)?(?:${NOUN}\\s+)?(?:of\\s+|for\\s+)?`, 'i'), 'cancel '],
  // "stop the web rollout" (not "… and go back", a rollback the understanding reads).
  [new RegExp(`^stop\\s+(?:the\\s+)?(?!all\\b)(\\S+)\\s+${NOUN}\\b${NOT_BACK}`, 'i'), (_, s) => `cancel ${s}`],
  [new RegExp(`^stop\\s+(?:the\\s+)?${NOUN}\\s+(?:of|for)\\s+${NOT_BACK}`, 'i'), 'cancel '],

  // --- lock and unlock, in other words.
  [
    /^(?:lift|remove|release|drop|clear|take\s+off|delete)\s+(?:the\s+)?(?:deploy\s+|deployment\s+)?(?:lock|freeze|hold|block)\s*(?:on|for|of|from)?\s*/i,
    'unlock ',
  ],
  [/^take\s+(?:the\s+)?(?:deploy\s+)?(?:lock|freeze|hold|block)\s+off\s+(?:of\s+)?/i, 'unlock '],
  [/^(?:unfreeze|unblock|unhold|unpause\s+deploys\s+(?:for|of|to))\s+/i, 'unlock '],
  [new RegExp(`^(?:freeze|block|hold|halt|pause|stop)\\s+(?:all\\s+)?${NOUN}\\s+(?:for|of|to|on)\\s+`, 'i'), 'lock '],
  [new RegExp(`^(?:freeze|block|embargo)\\s+(\\S+)(?:\\s+${NOUN})?\\b`, 'i'), (_, s) => `lock ${s}`],
  // "nobody deploy checkout, locking it": the warning comes first, the lock after.
  [
    /^(?:nobody|no\s+one|no-one|don'?t\s+anyone)\s+(?:deploys?|touch(?:es)?|ships?|push(?:es)?|releases?)\s+(?:to\s+)?(?:the\s+)?(\S+?)[,.;:]?\s.*\b(?:lock|locking|freeze|freezing)\b.*$/i,
    (_, s) => `lock ${s}`,
  ],
  [new RegExp(`^no\\s+(?:more\\s+)?${NOUN}\\s+(?:to|for|of|on)\\s+`, 'i'), 'lock '],
  [new RegExp(`^no\\s+(?:more\\s+)?(\\S+)\\s+${NOUN}\\b`, 'i'), (_, s) => `lock ${s}`],
  [/^(?:put|place|keep)\s+(\S+)\s+on\s+hold\b/i, (_, s) => `lock ${s}`],
  [/^(?:put|place|add|set)\s+(?:a\s+)?(?:deploy\s+)?(?:lock|freeze|hold)\s+(?:on|for)\s+/i, 'lock '],
  [/^lock\s+(?:down|up)\s+/i, 'lock '],

  // --- deploy, with the verbs and shapes people use beyond deploy / release / ship / push / roll out.
  [
    new RegExp(
      `^promote\\s+(.+?)\\s+(?:(?:from\\s+)?${FROM}\\s+(?:to|into|onto)|(?:from\\s+)?${FROM}\\s*(?:->|→|=>)|to|into|onto|in)\\s*${ENV}\\b(.*)$`,
      'i',
    ),
    // "… to prod from staging": where it comes from is said already.
    (_, what, env, tail) => `deploy ${what} to ${env}${tail.replace(new RegExp(`\\s*\\bfrom\\s+${FROM}\\b`, 'i'), '')}`,
  ],
  // "promote checkout 1.2.3 from staging": from staging is to production.
  [/^promote\s+(.+?)\s+from\s+(?:staging|stg|stage)\b(.*)$/i, (_, what, tail) => `deploy ${what} to production${tail}`],
  [/^promote\s+/i, 'deploy '],
  [
    /^(?:upgrade|update|bump|move|take|bring|advance)\s+(\S+)\s+(?:(?:from\s+)?v?\d\S*\s*(?:->|→|=>)\s*|(?:from\s+v?\d\S*\s+)?(?:to|up\s+to)\s+)(v?\d\S*)/i,
    (_, s, v) => `deploy ${s} ${v}`,
  ],
  [/^(?:upgrade|update|bump)\s+/i, 'deploy '],
  [/^roll\s+(\S+)\s+forward\s+(?:to\s+)?/i, (_, s) => `deploy ${s} `],
  [/^roll\s+forward\s+(?:to\s+)?/i, 'deploy '],
  [
    new RegExp(
      `^(?:get|put|send|push|take|bring|have)\\s+(.+?)(?:\\s+from\\s+${FROM})?\\s+(?:out\\s+)?(?:to|on|onto|into|in)\\s+${ENV}\\b(.*)$`,
      'i',
    ),
    (_, what, env, tail) => `deploy ${what} to ${env}${tail}`,
  ],
  [/^(?:get|push|send)\s+(.+?)\s+(?:out|live)\b(.*)$/i, (_, what, tail) => `deploy ${what}${tail}`],
  [
    new RegExp(
      `^(?:kick\\s*off|kickoff|start|begin|trigger|cut|do|run|fire\\s+off)\\s+(?:a\\s+|the\\s+|an\\s+)?(?:new\\s+)?${NOUN}\\s+(?:of|for|with)\\s+`,
      'i',
    ),
    'deploy ',
  ],
  [/^go\s+live\s+with\s+/i, 'deploy '],
];

export function rephrase(body: string): Rephrased {
  let text = body.trim();
  let asked = /\?\s*$/.test(text);
  const polite = POLITE.test(text);
  for (const re of ASKING) {
    const m = re.exec(text);
    if (m) {
      text = text.slice(m[0].length);
      asked = true;
      break;
    }
  }
  const plan = PLAN.test(text);
  text = text.replace(WANTING, '');
  text = text
    .replace(CLOSING, '')
    .replace(/\?+\s*$/, '')
    .trim();
  let synonym = false;
  for (const [re, to] of RULES) {
    const m = re.exec(text);
    if (!m) continue;
    synonym = true;
    const replaced = typeof to === 'string' ? to : to(...(m as unknown as string[]));
    // A space between: a rule may have taken the space after its match ("put web back to …").
    text = `${replaced} ${text.slice(m[0].length)}`.replace(/\s+/g, ' ').trim();
    break;
  }
  return { text, asked, polite, plan, synonym };
}
