/**
 * Entry of a memory probe process (memory/probe.ts starts it): reads one StepsToMeasure as JSON from stdin,
 * measures (memory/measure-steps.ts) and writes the StepMeasurement as one JSON line to stdout.
 */
import { measureTrainingSteps, type StepsToMeasure } from './measure-steps';

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const spec = JSON.parse(Buffer.concat(chunks).toString('utf8')) as StepsToMeasure;
process.stdout.write(`${JSON.stringify(await measureTrainingSteps(spec))}\n`);
