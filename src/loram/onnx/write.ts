/**
 * Writing a ModelProto to disk: one .onnx file with inline weights, or .onnx + an external data file (offsets
 * aligned so ONNX Runtime can map it) when the weights pass protobuf's 2 GiB ceiling.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeAll } from '../io/atomic';
import type { ExternalLayout, ExternalPlanEntry } from './graph';
import { BufferedSink, type Message } from './proto';

/** Stream `model` to `file`, and the external tensors of `plan` (in offset order) to `dataFile`. */
export async function writeModelFiles(model: Message, file: string, plan: readonly ExternalPlanEntry[] = [], dataFile?: string): Promise<void> {
  const fh = await fsp.open(file, 'w');
  try {
    const sink = new BufferedSink((c) => writeAll(fh, c));
    await model.writeTo(sink.write);
    await sink.flush();
  } finally {
    await fh.close();
  }
  if (!plan.length) return;
  if (!dataFile) throw new Error('external tensors need a data file');
  const dh = await fsp.open(dataFile, 'w');
  try {
    let off = 0;
    for (const e of plan) {
      if (e.offset > off) await writeAll(dh, new Uint8Array(e.offset - off));
      const bytes = e.data instanceof Uint8Array ? e.data : e.data.produce();
      await writeAll(dh, bytes);
      off = e.offset + bytes.length;
    }
  } finally {
    await dh.close();
  }
}

/** The layout export and training use for large graphs: tensors of 1 KiB and more in `<model>.data`, 4 KiB aligned. */
export function externalLayout(modelFile: string): ExternalLayout {
  return { location: `${path.basename(modelFile)}.data`, minBytes: 1024, alignment: 4096 };
}
