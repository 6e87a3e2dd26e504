// Entry of the compute worker thread: register tsx (TypeScript + extensionless imports), then load the worker.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(new URL('./worker.ts', import.meta.url).href);
void workerData;
