/** A node's input values by port, checked for their type (and presence) as `run` reads them. */
import type { PortType, PortValue, PortValueOf } from '../shared';
import type { NodeInputs } from './definition';
import { NodeInputError } from './errors';

function checkType<T extends PortType>(v: PortValue, port: string, type: T): PortValueOf<T> {
  if (v.type !== type) throw new NodeInputError(`input "${port}" should be a ${type}, got a ${v.type}`);
  return v as PortValueOf<T>;
}

export function requireInput<T extends PortType>(inputs: NodeInputs, port: string, type: T): PortValueOf<T> {
  const v = inputs[port];
  if (v === undefined || Array.isArray(v)) throw new NodeInputError(`input "${port}" is not connected`);
  return checkType(v, port, type);
}

export function optionalInput<T extends PortType>(inputs: NodeInputs, port: string, type: T): PortValueOf<T> | undefined {
  const v = inputs[port];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new NodeInputError(`input "${port}" takes one value`);
  return checkType(v, port, type);
}

export function listInput<T extends PortType>(inputs: NodeInputs, port: string, type: T): PortValueOf<T>[] {
  const v = inputs[port];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => checkType(x, port, type));
}
