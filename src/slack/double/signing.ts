// Slack's request signing (v0): HMAC-SHA256 over `v0:<timestamp>:<raw body>` with the signing
// secret. The double signs what it sends to the app the way Slack does, so Bolt's real check runs.
import { createHmac } from 'node:crypto';

export function signature(secret: string, timestampSec: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestampSec}:${body}`).digest('hex')}`;
}

export function signedHeaders(secret: string, body: string, timestampSec = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    'x-slack-request-timestamp': String(timestampSec),
    'x-slack-signature': signature(secret, timestampSec, body),
  };
}
