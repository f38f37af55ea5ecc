// `shipbot parse "<text>"`: what the rule parser understands, as JSON. Exit 0 for a command,
// 1 (with the reason on stderr) when the text is not a request. No network, no database.
import { loadAll } from '../config.js';
import { parseCommand } from '../domain/parse.js';

export async function run(args: string[]): Promise<number> {
  if (args.length === 0 || args[0] === '--help' || args[0] === '-h') {
    console.error('usage: shipbot parse "<text>"   e.g. shipbot parse "deploy checkout v1.2.3 canary"');
    return args.length === 0 ? 1 : 0;
  }
  const { config } = loadAll();
  // The shell already split the words; flags such as --guidance belong to the text.
  const text = args.map((a) => (/\s/.test(a) && args.length > 1 ? `"${a}"` : a)).join(' ');
  const result = parseCommand(text, config);
  if (!result.ok) {
    console.error(`shipbot parse: ${result.reason}`);
    return 1;
  }
  console.log(JSON.stringify(result.command, null, 2));
  return 0;
}
