#!/usr/bin/env node
// `shipbot`: the compiled entry (dist/, from `npm run build`) in a production install, which has
// neither tsx nor typescript; in a development checkout, where tsx is installed, the TypeScript
// sources directly, so `npx shipbot …` never runs a stale build.
const tsx = await import('tsx/esm/api').catch(() => undefined);
if (tsx) {
  tsx.register();
  await import('../src/cli.ts');
} else {
  await import('../dist/cli.js').catch((err) => {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli.js')) throw err;
    console.error('shipbot: no build found (dist/cli.js). Run `npm run build`, or `npm install` for a development checkout.');
    process.exit(1);
  });
}
