import path from 'node:path';
import { ConfigError, loadConfigFile, readEnv } from '../config.js';

export async function run(args: string[]): Promise<number> {
  const file = path.resolve(args[0] ?? readEnv().SHIPBOT_CONFIG);
  try {
    const cfg = loadConfigFile(file);
    console.log(`${file}: OK — ${cfg.services.length} services (${cfg.services.map((s) => s.name).join(', ')})`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}
