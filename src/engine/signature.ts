/**
 * Cache signatures. A node's signature hashes what determines its result: kind, version, parsed params (defaults
 * filled, so omitting a default changes nothing), the signatures of its inputs (by port, in edge order) and the
 * content hashes of the files it reads. Node ids are not part of it, so identical upstream chains (one Load
 * feeding four branches, or two identical Load nodes) share one artifact. Nodes whose output depends on
 * upstream ids (`usesNodeIds`) add them.
 */
import { hashJson } from './hash';

/** Bump to invalidate every cached artifact (e.g. when outputs.json changes shape). */
export const CACHE_FORMAT = 1;

export interface SignatureInput {
  type: string;
  version: number;
  params: unknown;
  /** Per input port: "<upstream signature>:<upstream port>" for each edge, in edge order. */
  inputs: Record<string, string[]>;
  files: Record<string, string>;
  ids?: unknown;
}

export function nodeSignature(s: SignatureInput): string {
  return hashJson({ cache: CACHE_FORMAT, ...s });
}
