/**
 * Replays the planner's live bytes in the order ONNX Runtime actually ran the nodes (its profile, written by
 * `child.ts --profile PREFIX`), next to the planner's own order: if the two peaks differ, ORT's order keeps more
 * alive than the plan assumes. Nodes ORT fused away (no event of their own) are placed just before their first
 * consumer that ran.
 *
 *   node --import tsx bench/loram-memory/replay-profile.ts --profile /tmp/prof/ckpt_….json --shape smollm2-135m
 *        --variant lora [--ratio 0.5] [--quant nf4] [--checkpointing] [--batch 1] [--seq 256]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { planGraph } from '../../src/loram/memory/ort-plan';
import { hostOwnedValues } from '../../src/loram/ort-train/llama-graph';
import { graphMemory } from '../../src/loram/ort-train/live-bytes';
import { parseRowArgs, planInputFor } from './rows';

const { values } = parseArgs({ options: { profile: { type: 'string' }, shape: { type: 'string' }, variant: { type: 'string' }, ratio: { type: 'string' }, quant: { type: 'string' }, checkpointing: { type: 'boolean' }, batch: { type: 'string' }, seq: { type: 'string' }, rank: { type: 'string' } } });
const row = parseRowArgs(values);
const { graph } = planGraph(planInputFor(row));
const g = graph.tape.g;
const external = hostOwnedValues(graph);

interface Ev {
  cat: string;
  name: string;
  ts: number;
  dur?: number;
}
const events = JSON.parse(readFileSync(values.profile!, 'utf8')) as Ev[];
// The last run only: node events after the last model_run's start.
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
const lastRun = runs[runs.length - 1]!;
const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= lastRun.ts).sort((a, b) => a.ts - b.ts);
// Node names are `Op_N` (onnx/graph.ts); a fused node keeps its anchor's name before a slash.
const byName = new Map(g.nodeInfo.map((nd, i) => [nd.name, i]));
const rank = new Map<number, number>();
nodes.forEach((e, k) => {
  const i = byName.get(e.name.replace(/_kernel_time$/, '').split('/')[0]!);
  if (i !== undefined && !rank.has(i)) rank.set(i, k);
});
const n = g.nodeInfo.length;
const consumers = new Map<string, number[]>();
g.nodeInfo.forEach((nd, i) => nd.inputs.forEach((v) => v && (consumers.get(v) ?? consumers.set(v, []).get(v)!).push(i)));
const r = new Array<number>(n);
let unseen = 0;
for (let i = n - 1; i >= 0; i--) {
  const own = rank.get(i);
  if (own !== undefined) {
    r[i] = own;
    continue;
  }
  unseen++;
  const cs = g.nodeInfo[i]!.outputs.flatMap((o) => consumers.get(o) ?? []);
  r[i] = cs.length ? Math.min(...cs.map((c) => r[c]!)) - 0.5 : Infinity;
}
// Unseen and unread (a fused-away output copy, say): right after its last producer.
const producer = new Map<string, number>();
g.nodeInfo.forEach((nd, i) => nd.outputs.forEach((o) => producer.set(o, i)));
for (let i = 0; i < n; i++) {
  if (r[i] !== Infinity) continue;
  const ps = g.nodeInfo[i]!.inputs.map((v) => producer.get(v)).filter((p): p is number => p !== undefined);
  r[i] = ps.length ? Math.max(...ps.map((p) => r[p]!)) + 0.25 : -1;
}
// ORT rewrites a few nodes (two Transposes composed into one that reads the first's input): a topological sort
// that always takes the ready node ORT ran first keeps its order wherever our graph allows it.
const order = topoByRank();
function topoByRank(): number[] {
  const deps = g.nodeInfo.map((nd) => new Set(nd.inputs.map((v) => producer.get(v)).filter((p): p is number => p !== undefined)).size);
  const users = new Map<number, number[]>();
  g.nodeInfo.forEach((nd, i) => new Set(nd.inputs.map((v) => producer.get(v)).filter((p): p is number => p !== undefined)).forEach((p) => (users.get(p) ?? users.set(p, []).get(p)!).push(i)));
  const ready = [...Array(n).keys()].filter((i) => deps[i] === 0);
  const out: number[] = [];
  const key = (i: number) => [r[i]!, i] as const;
  while (ready.length) {
    let best = 0;
    for (let k = 1; k < ready.length; k++) {
      const [a, b] = [key(ready[k]!), key(ready[best]!)];
      if (a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])) best = k;
    }
    const i = ready.splice(best, 1)[0]!;
    out.push(i);
    for (const u of users.get(i) ?? []) if (--deps[u]! === 0) ready.push(u);
  }
  return out;
}
const ours = graphMemory(g, { external, trace: true });
const theirs = graphMemory(g, { external, order, trace: true });
const MIB = 2 ** 20;
console.log(`nodes ${n}, profiled events ${nodes.length} (last run), matched ${rank.size}, placed by consumer ${unseen}`);
console.log(`peak in build order ${(ours.peakBytes / MIB).toFixed(1)} MiB; in ORT's order ${(theirs.peakBytes / MIB).toFixed(1)} MiB`);

/** What is alive at a peak, grouped by the producing op, largest first. */
function summary(live: NonNullable<typeof ours.liveAtPeak>): string {
  const by = new Map<string, { bytes: number; count: number; nodes: number[] }>();
  for (const v of live) {
    const k = g.nodeInfo[v.node]!.op;
    const e = by.get(k) ?? by.set(k, { bytes: 0, count: 0, nodes: [] }).get(k)!;
    e.bytes += v.bytes;
    e.count++;
    e.nodes.push(v.node);
  }
  return [...by].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 12).map(([op, e]) => `  ${op}: ${(e.bytes / MIB).toFixed(1)} MiB in ${e.count} (nodes ${Math.min(...e.nodes)}…${Math.max(...e.nodes)})`).join('\n');
}
console.log(`alive at the peak, build order:\n${summary(ours.liveAtPeak!)}\nalive at the peak, ORT's order:\n${summary(theirs.liveAtPeak!)}`);
if (process.env.REPLAY_DETAIL) {
  const pos = new Map(order.map((i, k) => [i, k]));
  const top = [...theirs.liveAtPeak!].sort((a, b) => b.bytes - a.bytes).slice(0, Number(process.env.REPLAY_DETAIL));
  for (const v of top) {
    const cs = consumers.get(v.value) ?? [];
    console.log(`${v.value} ${(v.bytes / MIB).toFixed(2)} MiB from ${g.nodeInfo[v.node]!.name}@${pos.get(v.node)} → ${cs.map((c) => `${g.nodeInfo[c]!.name}@${pos.get(c)}`).join(', ')}`);
  }
}
if (process.env.REPLAY_CHAIN) {
  // Follow a node's outputs down to the leaves: name, op, ORT position.
  const pos = new Map(order.map((i, k) => [i, k]));
  const seen = new Set<number>();
  const walk = (i: number, depth: number): void => {
    if (seen.has(i) || depth > 12) return;
    seen.add(i);
    const nd = g.nodeInfo[i]!;
    console.log(`${'  '.repeat(depth)}${nd.name}#${i}@${pos.get(i)} in: ${nd.inputs.join(',')} out: ${nd.outputs.join(',')}${nd.outputs.some((o) => g.outputs.some((x) => x.name === o)) ? ' [graph output]' : ''}`);
    for (const o of nd.outputs) for (const c of consumers.get(o) ?? []) walk(c, depth + 1);
  };
  walk(Number(process.env.REPLAY_CHAIN), 0);
}
if (process.env.REPLAY_UNSEEN) {
  // Nodes ORT did not run as themselves (fused into another, or folded into a constant at load), by op.
  const by = new Map<string, number>();
  g.nodeInfo.forEach((nd, i) => !rank.has(i) && by.set(nd.op, (by.get(nd.op) ?? 0) + 1));
  console.log('not run as themselves:', [...by].sort((a, b) => b[1] - a[1]).map(([op, c]) => `${op} ${c}`).join(', '));
}
