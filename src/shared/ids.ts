/**
 * Identifiers that are all strings on the wire but must not be swapped: a node's id in a recipe, the signature
 * that keys a node's cached artifact, and the content hash of a file or folder. Branded, so the compiler refuses
 * one where another is meant; made only where they are computed (or read back from a recipe or a store).
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type NodeId = Brand<string, 'NodeId'>;
/** hash(type, version, params, input signatures, file hashes): the artifact id (src/engine/signature.ts). */
export type Signature = Brand<string, 'Signature'>;
/** sha-256 of a file's bytes, or of a folder's (path, file hash) list (src/engine/hash.ts). */
export type ContentHash = Brand<string, 'ContentHash'>;

/** A node id read from a recipe (where the engine takes ids in: its run plan, the edges it follows). */
export function nodeId(id: string): NodeId {
  return id as NodeId;
}
