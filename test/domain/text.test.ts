// What people read outside Slack's rendering (reports, files, the terminal): names, not ids;
// dates as their UTC text.
import { describe, expect, it } from 'vitest';
import { namesOf, plainDates, slackDate, withNames } from '../../src/domain/text.js';

describe('people by name', () => {
  const names = namesOf(['ivan (U_IC)', 'shipbot', 'alice (U0ALICE01)'], [['U_DEV', 'dev']]);

  it('learns names from actor labels and named requesters', () => {
    expect([...names]).toEqual([
      ['U_DEV', 'dev'],
      ['U_IC', 'ivan'],
      ['U0ALICE01', 'alice'],
    ]);
  });

  it('turns labels, mentions and bare ids it knows into names; an unknown mention into "someone"', () => {
    expect(withNames('requested by ivan (U_IC) · approved by U0ALICE01 · started by <@U_DEV> and <@U_NEW>', names)).toBe(
      'requested by ivan · approved by alice · started by dev and someone',
    );
    // A parenthesis that is not a known person's id stays as written.
    expect(withNames('rolled back (U_UNKNOWN) to v1.2.2 (canary)', names)).toBe('rolled back (U_UNKNOWN) to v1.2.2 (canary)');
  });
});

describe('dates', () => {
  it("writes Slack's date token of a wall-clock moment, and its UTC text where Slack does not render", () => {
    const at = Date.UTC(2026, 11, 7, 8, 25, 40);
    const token = slackDate(at);
    expect(token).toBe(`<!date^${Math.floor(at / 1000)}^{date_short_pretty} {time}|2026-12-07 08:25 UTC>`);
    expect(plainDates(`Shipbot restarted ${token}; resuming`)).toBe('Shipbot restarted 2026-12-07 08:25 UTC; resuming');
  });
});
