/**
 * Where a V8 CPU profile's time went, by function and by file, and what one profile spent over
 * another: `tsx bench/profile-summary.ts BASE.cpuprofile [OTHER.cpuprofile] [--top 30]`. With two
 * profiles (say bench:revocation's `--cpu-profile` off and cold runs), prints OTHER − BASE per
 * function and per file, largest first, so the cost of what OTHER does more stands out.
 * `--inclusive` counts each function's callees too.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly children?: readonly number[];
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * Time in ms per key, for two keyings: function (name, file, line) and file. Self time, or with
 * `inclusive` the time of every sample a function (a file) is on the stack of, once per sample.
 */
function selfTimes(
  path: string,
  inclusive: boolean,
): { byFunction: Map<string, number>; byFile: Map<string, number>; total: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const counted = new Set<string>();
    // Self time: the sampled frame alone; inclusive: every frame on its stack (bounded by the profile's depth).
    for (let at: number | undefined = id; at !== undefined; at = inclusive ? parent.get(at) : undefined) {
      const frame = nodes.get(at)?.callFrame;
      if (frame === undefined) break;
      const file = frame.url.replace(/^file:\/\/.*?\/(lambdas|bench|node_modules)\//, '$1/') || '(native)';
      const fn = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
      for (const [map, key] of [
        [byFunction, fn],
        [byFile, file],
      ] as const) {
        if (counted.has(key)) continue;
        counted.add(key);
        map.set(key, (map.get(key) ?? 0) + ms);
      }
    }
  });
  return { byFunction, byFile, total };
}

function print(title: string, rows: Map<string, number>, top: number): void {
  console.log(title);
  const sorted = [...rows].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, top);
  for (const [key, ms] of sorted) console.log(`  ${ms.toFixed(1).padStart(9)} ms  ${key}`);
}

function difference(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const key of new Set([...a.keys(), ...b.keys()])) out.set(key, (b.get(key) ?? 0) - (a.get(key) ?? 0));
  return out;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, inclusive: { type: 'boolean', default: false } },
});
const top = Number(values.top);
const [basePath, otherPath] = positionals;
if (basePath === undefined) {
  console.error(
    'usage: tsx bench/profile-summary.ts BASE.cpuprofile [OTHER.cpuprofile] [--top 30] [--inclusive]',
  );
  process.exit(2);
}
const kind = values.inclusive ? 'inclusive time' : 'self time';
const base = selfTimes(basePath, values.inclusive);
if (otherPath === undefined) {
  console.log(`${basePath}: ${base.total.toFixed(0)} ms sampled`);
  print(`${kind} by file`, base.byFile, top);
  print(`${kind} by function`, base.byFunction, top);
} else {
  const other = selfTimes(otherPath, values.inclusive);
  console.log(
    `${otherPath} − ${basePath}: ${other.total.toFixed(0)} − ${base.total.toFixed(0)} = ${(other.total - base.total).toFixed(0)} ms sampled`,
  );
  print(`${kind} by file, difference`, difference(base.byFile, other.byFile), top);
  print(`${kind} by function, difference`, difference(base.byFunction, other.byFunction), top);
}
