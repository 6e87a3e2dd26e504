/** The node registry: every node kind, and the catalogue (NodeSpec) derived from the definitions. */
import { alignNode } from './align';
import { compareNode } from './compare';
import { datasetNode } from './dataset';
import { evaluateNode } from './evaluate';
import { exportNode } from './export';
import { loadNode } from './load';
import { loraTrainNode } from './lora-train';
import { pruneNode } from './prune';
import { quantizeNode } from './quantize';
import { recoverNode } from './recover';
import { makeRegistry } from './registry';

export type { NodeContext, NodeDefinition, NodeInputs, NodeResult } from './definition';
export type { NodeRegistry } from './registry';
export { nodeSpec } from './catalogue';

export const NODE_DEFINITIONS = [loadNode, datasetNode, pruneNode, alignNode, quantizeNode, loraTrainNode, recoverNode, evaluateNode, compareNode, exportNode] as const;

export const registry = makeRegistry(NODE_DEFINITIONS);
