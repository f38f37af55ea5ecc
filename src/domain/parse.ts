// Chat text → a command. Rules only, no I/O. A message is a request only when it starts with
// an instruction ("deploy …", "roll out …", "rollback …"); chatter, questions, negations and past
// tense are refused with a reason. What the text does not say (service, version) is listed in
// `missing`, never guessed; a version is only ever a string that matches VERSION_PATTERN.
import type { ShipbotConfig } from './config-schema.js';
import { resolveService } from './fuzzy.js';
import { environmentWord, extractFlags, splitWords, type Flags } from './parse-flags.js';
import type { Environment, ParseResult, ParsedCommand } from './types.js';
import {
  MAX_TEXT,
  EXAMPLE,
  fail,
  cleanSlackText,
  joinWords,
  stripAddress,
  normalisePhrases,
  unsafePath,
  shellCharacters,
  hasDeployFlags,
  linkForVersion,
} from './parse-text.js';
import { detectIntent, fixVerbTypo, whyNotARequest } from './parse-intent.js';
import { rephrase } from './parse-rephrase.js';
import { understand } from './parse-understand.js';
import { FILLERS, PREPOSITIONS, cleanToken, parseDeploy, finishDeploy, dropUndefined } from './parse-deploy.js';

/** Said in the reply to a deploy asked as a question: it is an offer, not a start. */
const ASKED_NOTE = 'You asked: this is the request your question carries. Press Start to go ahead, or Configure… to change it.';

/** Parses a chat message (channel message, mention, DM). */
export function parseCommand(text: string, cfg: ShipbotConfig, now: Date = new Date()): ParseResult {
  return parse(text, cfg, now, false);
}

/** Parses `/deploy` text, which arrives without the verb: `checkout v1.2.3 canary`. */
export function parseSlashDeploy(text: string, cfg: ShipbotConfig, now: Date = new Date()): ParseResult {
  return parse(text, cfg, now, true);
}

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
  // A slip in the first word ("deplyo checkout 1.2.3") is put right, and the reply says so.
  const typo = slash ? { text: body } : fixVerbTypo(body);
  // How people ask, brought to the forms the rules read; a question keeps its mark.
  let asked = slash ? { text: body, asked: false, polite: false, plan: false, synonym: false } : rephrase(typo.text);
  let intent = detectIntent(asked.text, slash) ?? (asked.text !== body ? detectIntent(body, slash) : undefined);
  // What the phrase rules do not read: cue words and slots wherever they stand.
  // A message the rules found to be chatter (a statement, a negation, cheering) stays chatter.
  // The message as it stands first, then without its opener ("I'd love to see …").
  const understood =
    slash || intent ? undefined : (understand(body, cfg) ?? (asked.text !== body ? understand(asked.text, cfg) : undefined));
  if (understood) {
    // The canonical words leave the rest of the message behind: what was stuck to it is refused here.
    const unsafe = shellCharacters(body) ?? unsafePath(body);
    if (unsafe) return fail(unsafe);
    asked = {
      ...asked,
      text: understood.text,
      asked: asked.asked || understood.asked,
      polite: asked.polite || understood.polite,
      synonym: true,
    };
    intent = detectIntent(understood.text, false);
  }
  if (!intent) return fail(whyNotARequest(body));
  if (intent.kind === 'chatter') return fail(intent.reason);
  if (typo.note && intent.kind === 'deploy') intent.notes.push(typo.note);

  // A question may carry a deploy request: the reply is an offer (chat requests never start by
  // themselves). Rollback, cancel, lock and unlock act at once, so a question never does them,
  // unless it is a request put politely ("can you roll back checkout?").
  const question = asked.asked || /\?\s*$/.test(body);
  const polite = prefix.politeQuestion || asked.polite;
  if (question && !['status', 'help', 'deploy'].includes(intent.kind) && !polite) {
    return fail(
      `This reads as a question, not a request. To ${intent.kind} now, say it without the question mark, e.g. \`${intent.kind} checkout\`.`,
    );
  }
  const shell = shellCharacters(intent.rest) ?? unsafePath(intent.rest);
  if (shell) return fail(shell);

  if (intent.kind !== 'deploy' && hasDeployFlags(flags) && !(Object.keys(flags).length === 1 && flags.environment)) {
    return fail(`Options like --guidance or --strategy only apply to deploy requests, not to '${intent.kind}'.`);
  }
  switch (intent.kind) {
    case 'deploy': {
      const result = parseDeploy(intent.rest, flags, cfg, now, intent.notes);
      // "release the kraken", "update your slack app": a deploy verb, no version, and a word that
      // is no service: chatter, with the services it may have meant. So is a verb of the lexicon
      // before a word that is no service ("upgrade my laptop to macOS 15"), and a plan told
      // without a version ("I'll deploy search after lunch").
      if (!slash && result.ok && result.command.intent === 'deploy') {
        const c = result.command;
        if (asked.plan && !c.version) return fail(whyNotARequest(body));
        const link = c.version ? undefined : linkForVersion(intent.rest);
        if (link) return fail(link);
        if ((!c.version || asked.synonym) && c.unknownService) {
          const hint = c.suggestions.length
            ? ` (There is no service named '${c.unknownService}'; did you mean ${c.suggestions.join(' or ')}?)`
            : '';
          return fail(`${whyNotARequest(body)}${hint}`);
        }
      }
      if (!question || !result.ok || result.command.intent !== 'deploy') return result;
      // A question that names no service and version is a question about deploying, not a request.
      if (!result.command.service || !result.command.version)
        return fail(`This reads as a question about deploying, not a request. Say what to deploy, ${EXAMPLE}.`);
      return { ok: true, command: { ...result.command, notes: [...result.command.notes, ASKED_NOTE] } };
    }
    case 'help':
      return { ok: true, command: { intent: 'help' } };
    case 'stop-all': {
      const reason = intent.rest.trim();
      if (!reason) return fail('Say why, so everyone whose deploy stops can read it: `stop all deploys payments outage, INC-123`.');
      return { ok: true, command: { intent: 'stop-all', reason: reason.slice(0, 300) } };
    }
    case 'resume-all':
      return { ok: true, command: { intent: 'resume-all' } };
    default: {
      const result = parseOperation(intent.kind, intent.rest, flags, cfg);
      if (!result.ok || (result.command as { service?: string }).service) return result;
      // "are we done with checkout?": the service stands where the phrase rule did not look.
      const named = (understood ?? understand(body, cfg))?.text.split(' ');
      if (named?.[0] !== intent.kind || !named[1]) return result;
      return { ok: true, command: { ...result.command, service: named[1] } as ParsedCommand };
    }
  }
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
    // "cancel the pending payments deploy": a word before a service named exactly describes it.
    const named = lower.slice(i + 1).some((x) => resolveService(x, cfg).kind === 'name');
    if (r.kind === 'unknown' && named) continue;
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
  // "cancel my 3pm": words that name no service, and no service named: not a Shipbot request.
  const unread = lower.filter((w, i) => !used.has(i) && w && !FILLERS.has(w) && !OPERATION_FILLERS.has(w));
  if (!service && unread.length && kind !== 'status' && kind !== 'lock') return fail(whyNotARequest(`${kind} ${rest}`));
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
  // Words of a status question around the service: "how is it going", "is our rollout done".
  'it',
  'this',
  'that',
  'things',
  'our',
  'my',
  'rollout',
  'rollouts',
  'release',
  'releases',
  'deploys',
  'deployments',
  'now',
]);

export { cleanSlackText } from './parse-text.js';
export { startsWithDeployVerb, whyNotARequest } from './parse-intent.js';
