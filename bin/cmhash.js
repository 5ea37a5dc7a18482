#!/usr/bin/env node
// The compiled CLI lives in dist/ (`npm install` builds it with `prepare`); when it is missing, say
// so in one line instead of printing a module-resolution stack.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  console.error(`cmhash: not built yet (${entry} is missing): run \`npm install\` or \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}`);
  process.exit(1);
}
const { main } = await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
main(process.argv).catch((e) => { console.error(e?.message ?? e); process.exit(1); });
