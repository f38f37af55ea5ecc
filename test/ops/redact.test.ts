// Redaction (issue 32, finding 7): what the review found leaking, masked in free text and by key.
import { describe, expect, it } from 'vitest';
import { scrubDeep, scrubSecrets } from '../../src/domain/redact.js';

const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoic3lzdGVtOnNhIn0.c2lnbmF0dXJlLXBhcnQtbG9uZy1lbm91Z2g';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretkeymaterial\nabc\n-----END RSA PRIVATE KEY-----';

describe('scrubSecrets', () => {
  it.each([
    ['a bare service-account token', `token is ${JWT} ok`, JWT],
    ['a PEM private key', `key:\n${PEM}\nafter`, 'secretkeymaterial'],
    ['a password in a URL', 'connecting to postgres://app:hunter2@db:5432/shop', 'hunter2'],
    ['accessToken=', 'accessToken=abc123def done', 'abc123def'],
    ['"clientSecret": "…"', '{"clientSecret": "cs-value-9"}', 'cs-value-9'],
    ['client-key-data:', 'client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t', 'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t'],
    ['secret:', "secret: 'shh-value'", 'shh-value'],
    ['password=', 'password=p4ss;', 'p4ss'],
  ])('masks %s', (_what, text, secret) => {
    const out = scrubSecrets(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });
  it('leaves ordinary lines alone', () => {
    const line = 'level=info msg="applying" migration=0042_add_orders_total_cents';
    expect(scrubSecrets(line)).toBe(line);
  });
});

describe('scrubDeep', () => {
  it('masks secret keys in any spelling', () => {
    expect(
      scrubDeep({
        accessToken: 'a',
        secret: 'b',
        clientSecret: 'c',
        'client-key-data': 'd',
        privateKey: 'e',
        safe: 'ok',
        nested: [{ password: 'p' }],
      }),
    ).toEqual({
      accessToken: '[redacted]',
      secret: '[redacted]',
      clientSecret: '[redacted]',
      'client-key-data': '[redacted]',
      privateKey: '[redacted]',
      safe: 'ok',
      nested: [{ password: '[redacted]' }],
    });
  });
});
