// One sample of bench/startup.mjs's isolate method, run as a worker thread:
// a fresh V8 isolate that imports one bundle (parse, compile and evaluate of the
// top level, what an isolate does before its first request) and reports how long
// that took, in milliseconds, with performance.now()'s microsecond resolution.
// `cloudflare:workers` is replaced in the bundle's copy by a stub (startup.mjs).
import { parentPort, workerData } from "node:worker_threads";

const started = performance.now();
const module = await import(workerData.url);
const evaluate = performance.now() - started;
parentPort.postMessage({ evaluate, exports: Object.keys(module).length });
