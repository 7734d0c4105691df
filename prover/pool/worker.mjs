// Piscina worker bootstrap. ffjavascript's web-worker shim treats any worker thread as one of its own
// children and crashes on start-up; telling it this is a main thread must happen before snarkjs loads.
import workerThreads from 'node:worker_threads';
import { register } from 'tsx/esm/api';

Object.defineProperty(workerThreads, 'isMainThread', { value: true });
register();
const mod = await import('./proveWorker.ts');
export default mod.default;
