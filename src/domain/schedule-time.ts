// "… at 02:00", "… tomorrow 09:30", "… tonight at 23:00", "… in 30 minutes" → an ISO time.
// Times are read as UTC: chat text carries no time zone, and guessing one would move deploys.
// A time word we cannot turn into a time ("later", "on Friday") is an error, never "now".

export type ScheduleResult = { ok: true; text: string; scheduledAt?: string; note?: string } | { ok: false; reason: string };

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const TIME = String.raw`(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?`;
const ZONE = String.raw`(?:\s*\b(utc|gmt|z|cet|cest|eet|eest|pst|pdt|est|edt|cst|cdt|mst|mdt|bst|ist|jst|aest|aedt)\b)?`;
// day word, then optional "at", then the time; or "at" + time, then optional day word.
const DAY_FIRST = new RegExp(String.raw`\b(today|tonight|tomorrow)\s+(?:at\s+)?${TIME}${ZONE}(?![\w.:%])`, 'i');
const AT_TIME = new RegExp(
  String.raw`(?:\bat\s+|(?<![\w.:@])(?=\d{1,2}:\d{2}))${TIME}${ZONE}(?:\s+(today|tonight|tomorrow))?(?![\w.:%])`,
  'i',
);
const RELATIVE = /\bin\s+(\d{1,4})\s*(minutes?|mins?|m|hours?|hrs?|h)\b/i;
const VAGUE =
  /\b(tomorrow|tonight|later|this (?:morning|afternoon|evening|weekend)|next (?:week|month)|(?:on\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?|weekend|midnight|noon|eod|end of day)\b/i;

function fmt(d: Date): string {
  return d.toISOString();
}

/** Finds one schedule phrase in `text`, removes it, and returns the UTC time it means. */
export function extractSchedule(text: string, now: Date): ScheduleResult {
  const rel = RELATIVE.exec(text);
  if (rel) {
    const n = Number(rel[1]);
    const unit = rel[2].toLowerCase();
    const ms = unit.startsWith('h') ? n * 60 * MINUTE : n * MINUTE;
    if (n === 0) return { ok: false, reason: `'${rel[0]}' is now: leave the time out to deploy now.` };
    const at = new Date(now.getTime() + ms);
    return withRest(text, rel[0], at, `scheduled ${rel[0].trim()} → ${fmt(at)} (UTC)`);
  }

  const dayFirst = DAY_FIRST.exec(text);
  const atTime = dayFirst ? null : AT_TIME.exec(text);
  const m = dayFirst ?? atTime;
  if (!m) {
    const vague = VAGUE.exec(text);
    if (vague) {
      return {
        ok: false,
        reason: `I can't tell when '${vague[0]}' is. Give a time in UTC, e.g. 'at 02:00', 'tomorrow 09:30' or 'in 30 minutes', or leave it out to deploy now.`,
      };
    }
    return { ok: true, text };
  }
  const [phrase] = m;
  const day = (dayFirst ? m[1] : m[6])?.toLowerCase();
  const hourText = dayFirst ? m[2] : m[1];
  const minuteText = dayFirst ? m[3] : m[2];
  const meridiem = (dayFirst ? m[4] : m[3])?.toLowerCase().replace(/\./g, '');
  const zone = (dayFirst ? m[5] : m[4])?.toLowerCase();
  // "at 5" without minutes or am/pm is too ambiguous (5 o'clock? 5%?).
  if (minuteText === undefined && !meridiem) return { ok: true, text };
  if (zone && !['utc', 'gmt', 'z'].includes(zone)) {
    return {
      ok: false,
      reason: `Times are read as UTC and I can't convert '${zone.toUpperCase()}': write the time in UTC, e.g. 'at 14:00 UTC'.`,
    };
  }

  let hour = Number(hourText);
  const minute = minuteText === undefined ? 0 : Number(minuteText);
  if (meridiem) {
    if (hour < 1 || hour > 12) return { ok: false, reason: `'${phrase.trim()}' is not a time: with am/pm the hour is 1–12.` };
    hour = (hour % 12) + (meridiem === 'pm' ? 12 : 0);
  }
  if (hour > 23 || minute > 59) return { ok: false, reason: `'${phrase.trim()}' is not a time of day (00:00–23:59, UTC).` };

  let note = '';
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  let at: number;
  if (day === 'tomorrow') {
    at = midnight + DAY + (hour * 60 + minute) * MINUTE;
  } else if (day === 'tonight') {
    // "tonight at 1:00" is after midnight; "tonight at 9:00" means 21:00.
    if (!meridiem && hour >= 6 && hour < 12) {
      hour += 12;
      note = ` (read 'tonight' ${hourText}:${minuteText} as ${hour}:${String(minute).padStart(2, '0')})`;
    }
    at = midnight + (hour < 6 ? DAY : 0) + (hour * 60 + minute) * MINUTE;
  } else {
    at = midnight + (hour * 60 + minute) * MINUTE;
    // "at 02:00" with no day: the next 02:00 to come.
    if (!day && at <= now.getTime()) at += DAY;
  }
  if (at <= now.getTime()) {
    return { ok: false, reason: `'${phrase.trim()}' has already passed (it is ${fmt(now).slice(11, 16)} UTC now): give a later time.` };
  }
  return withRest(text, phrase, new Date(at), `scheduled for ${fmt(new Date(at))} (times are read as UTC)${note}`);
}

function withRest(text: string, phrase: string, at: Date, note: string): ScheduleResult {
  const rest = text.replace(phrase, ' ');
  const vague = VAGUE.exec(rest);
  if (vague) return { ok: false, reason: `The request has two times ('${phrase.trim()}' and '${vague[0]}'): give one.` };
  return { ok: true, text: rest, scheduledAt: at.toISOString(), note };
}
