#!/usr/bin/env node
// Counts imports between the top-level folders of src/ and checks that they point one way:
// a folder may import only from folders of a lower rank (or its own), and no two folders import
// each other. Prints every offending edge; exit 1 when there is one. `--json` prints the counts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

// Lower rank = lower layer. Folders of equal rank must not import each other at all.
export const RANKS = {
  util: 0, tensor: 1, nn: 2, data: 2, codes: 3, eval: 4, index: 4, export: 4, methods: 5, continual: 6,
  product: 7, server: 8, cli: 9,
};

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

export function layerEdges(srcDir) {
  const edges = new Map();   // "from->to" → [file, ...]
  for (const file of walk(srcDir)) {
    const from = relative(srcDir, file).split(sep)[0];
    if (!(from in RANKS)) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
      const target = relative(srcDir, resolve(dirname(file), m[1])).split(sep)[0];
      if (target === from || !(target in RANKS)) continue;
      const key = `${from}->${target}`;
      if (!edges.has(key)) edges.set(key, []);
      edges.get(key).push(relative(srcDir, file));
    }
  }
  return edges;
}

export function layerViolations(srcDir) {
  const edges = layerEdges(srcDir);
  const upward = [];
  const cycles = [];
  for (const [key, files] of edges) {
    const [from, to] = key.split('->');
    if (RANKS[to] > RANKS[from]) upward.push({ from, to, files });
    if (edges.has(`${to}->${from}`) && from < to) cycles.push([from, to]);
  }
  return { edges: edges.size, upward, cycles };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const srcDir = resolve(dirname(new URL(import.meta.url).pathname), '..', 'src');
  const v = layerViolations(srcDir);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ edges: v.edges, upward: v.upward.length, cycles: v.cycles.length }));
  for (const u of v.upward) console.log(`upward: ${u.from} -> ${u.to}  (${[...new Set(u.files)].join(', ')})`);
  for (const [a, b] of v.cycles) console.log(`cycle: ${a} <-> ${b}`);
  console.log(`${v.edges} edges between layers, ${v.upward.length} pointing upward or sideways, ${v.cycles.length} cycles`);
  process.exit(v.upward.length || v.cycles.length ? 1 : 0);
}
