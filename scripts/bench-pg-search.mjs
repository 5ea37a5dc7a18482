#!/usr/bin/env node
// Runs the PostgreSQL search benchmark (src/cli/bench/pg-search.ts) from dist: build first
// (npx tsc -p tsconfig.json). Starts its own throwaway clusters unless --url / --shard-url are given.
//   node scripts/bench-pg-search.mjs [--n 1000000] [--queries 20] [--shards 2] [--url U] [--shard-url U ...] [--json]
import { benchPgSearch, formatPgSearchBench } from '../dist/src/cli/bench/pg-search.js';

const args = process.argv.slice(2), opts = { shardUrls: [] };
let json = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i], v = () => { if (i + 1 >= args.length) throw new Error(`${a} needs a value`); return args[++i]; };
  if (a === '--n') opts.n = Number(v());
  else if (a === '--queries') opts.queries = Number(v());
  else if (a === '--shards') opts.shards = Number(v());
  else if (a === '--url') opts.url = v();
  else if (a === '--shard-url') opts.shardUrls.push(v());
  else if (a === '--json') json = true;
  else { console.error(`unknown option ${a}`); process.exit(2); }
}
if (opts.shardUrls.length === 0) delete opts.shardUrls;
const result = await benchPgSearch({ ...opts, log: json ? undefined : (line) => console.error(`… ${line}`) });
console.log(json ? JSON.stringify(result) : `${formatPgSearchBench(result)}\n\nEXPLAIN (VERBOSE, ANALYZE), sharded MIH step (radius 15):\n${result.explain.mih}\n\nEXPLAIN (VERBOSE, ANALYZE), sharded scan:\n${result.explain.scan}`);
