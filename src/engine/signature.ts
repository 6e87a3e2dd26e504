/**
 * Cache signatures. A node's signature hashes what determines its result: kind, version, parsed params (defaults
 * filled, so omitting a default changes nothing), the signatures of its inputs (by port, in edge order) and the
 * content hashes of the files it reads. Node ids are not part of it, so identical upstream chains (one Load
 * feeding four branches, or two identical Load nodes) share one artifact. Nodes whose output depends on
 * upstream ids (`usesNodeIds`) add them.
 */
import { nodeId, type ContentHash, type NodeId, type Signature } from '../shared/ids';
import { hashJson, type FileHasher } from './hash';
import { incoming } from './graph';
import type { Analysis, CheckedNode } from './validate';

export type { Signature };

/** Bump to invalidate every cached artifact (e.g. when outputs.json changes shape). */
export const CACHE_FORMAT = 1;

export interface SignatureInput {
  type: string;
  version: number;
  params: unknown;
  /** Per input port: "<upstream signature>:<upstream port>" for each edge, in edge order. */
  inputs: Record<string, string[]>;
  files: Record<string, ContentHash>;
  ids?: unknown;
}

export function nodeSignature(s: SignatureInput): Signature {
  return hashJson({ cache: CACHE_FORMAT, ...s }) as Signature;
}

/** Content hashes of the files a node reads (`files` of its definition), by param field. */
export async function fileHashesOf(c: CheckedNode, baseDir: string, hasher: FileHasher): Promise<Record<string, ContentHash>> {
  const out: Record<string, ContentHash> = {};
  for (const f of c.def.files?.(c.params as never, { baseDir }) ?? []) out[f.field] = await hasher.hash(f.path, f.kind);
  return out;
}

/** For each input port, the upstream node (id and display label) of each value, in edge order. */
export function sourcesOf(a: Analysis, id: string): Record<string, { node: string; port: string; label: string }[]> {
  const out: Record<string, { node: string; port: string; label: string }[]> = {};
  for (const [port, es] of incoming(a.edges, id)) {
    out[port] = es.map((e) => ({ node: e.from.node, port: e.from.port, label: a.nodes.get(e.from.node)?.node.label || e.from.node }));
  }
  return out;
}

/** Signature of node `id`, given its upstream signatures (null when params are invalid or an upstream one is unknown). */
export async function signatureOf(a: Analysis, id: NodeId, baseDir: string, hasher: FileHasher, upstream: (node: NodeId) => Signature | undefined): Promise<Signature | null> {
  const c = a.nodes.get(id)!;
  if (!c.params) return null;
  const inputs: Record<string, string[]> = {};
  for (const [port, es] of incoming(a.edges, id)) {
    const ups = es.map((e) => upstream(nodeId(e.from.node)));
    if (ups.some((u) => u === undefined)) return null;
    inputs[port] = es.map((e, i) => `${ups[i]}:${e.from.port}`);
  }
  return nodeSignature({
    type: c.def.type,
    version: c.def.version,
    params: c.params,
    inputs,
    files: await fileHashesOf(c, baseDir, hasher),
    ...(c.def.usesNodeIds ? { ids: sourcesOf(a, id) } : {}),
  });
}
