// The Slack side of the button bench, in a process of its own as Slack is: the Web API double
// and its driver, told over IPC what to do. Its signing, sending and timing do not share an event
// loop with the app it measures.
import { REQUEST_ACTIONS } from '../src/slack/blocks/request.js';
import { startSlackDouble } from '../src/slack/double/index.js';

export type SlackSideRequest =
  | { kind: 'connect'; url: string }
  | { kind: 'requests'; n: number }
  | { kind: 'press'; replyTs: string[] }
  | { kind: 'close' };

export type SlackSideReply =
  | { kind: 'ready'; apiUrl: string; botToken: string; signingSecret: string }
  | { kind: 'connected' }
  | { kind: 'requests'; replyTs: string[] }
  | { kind: 'press'; acks: number[]; statuses: number[]; opened: number };

const send = (m: SlackSideReply) => process.send!(m);
const double = await startSlackDouble();
send({ kind: 'ready', apiUrl: double.apiUrl, botToken: double.botToken, signingSecret: double.signingSecret });

process.on('message', async (m: SlackSideRequest) => {
  switch (m.kind) {
    case 'connect':
      double.connect(m.url);
      return send({ kind: 'connected' });
    case 'requests': {
      // Requests to press Configure… on: each answered in its thread with the proposal.
      const replyTs: string[] = [];
      for (let i = 0; i < m.n; i++) {
        const { ts } = await double.postUserMessage('U_DEV', 'deploys', `<@U0SHIPBOT> deploy checkout v1.${i}.0 canary`);
        let reply: ReturnType<typeof double.messages>[number] | undefined;
        while (!(reply = double.messages('deploys', ts).find((x) => x.botId && x.ts !== ts))) await new Promise((r) => setTimeout(r, 1));
        replyTs.push(reply.ts);
      }
      return send({ kind: 'requests', replyTs });
    }
    case 'press': {
      // Everyone presses at the same moment: all presses are built and signed, then sent at once,
      // each timed from its send to its HTTP answer, as Slack times an ack.
      const before = double.openViews('U_DEV').length;
      let fire!: () => void;
      double.driver.holdSends(new Promise<void>((r) => (fire = r)));
      const pressing = Promise.all(m.replyTs.map((ts) => double.clickButton('U_DEV', ts, REQUEST_ACTIONS.configure)));
      while (double.driver.heldSends < m.replyTs.length) await new Promise((r) => setImmediate(r));
      double.driver.holdSends(undefined);
      const pressedAt = performance.now();
      fire();
      const results = await pressing;
      // The modals open after the acks. The double refuses a trigger_id older than 3 s, as Slack
      // does, so every modal that opened opened in time.
      const opened = () => double.openViews('U_DEV').length - before;
      while (opened() < m.replyTs.length && performance.now() - pressedAt < 3500) await new Promise((r) => setTimeout(r, 5));
      return send({ kind: 'press', acks: results.map((r) => r.ms!), statuses: results.map((r) => r.status), opened: opened() });
    }
    case 'close':
      await double.close();
      process.exit(0);
  }
});
