// pino with secrets redacted. One child logger per run: `log.child({ runId })`.
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'token', '*.token', 'botToken', '*.botToken', 'appToken', '*.appToken', 'signingSecret', '*.signingSecret',
  'apiKey', '*.apiKey', 'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'ANTHROPIC_API_KEY', '*.SLACK_BOT_TOKEN',
  '*.SLACK_APP_TOKEN', '*.SLACK_SIGNING_SECRET', '*.ANTHROPIC_API_KEY',
];

/** Masks anything that looks like a Slack or Anthropic secret inside free text. */
export function scrubSecrets(text: string): string {
  return text
    .replace(/\bxox[abposr]-[A-Za-z0-9-]+/g, 'xox?-[redacted]')
    .replace(/\bxapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]')
    .replace(/\bsk-ant-[A-Za-z0-9_-]+/g, 'sk-ant-[redacted]');
}

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination(2),
  );
}

export type { Logger };
