#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';
main(process.argv).catch((e) => { console.error(e?.message ?? e); process.exit(1); });
