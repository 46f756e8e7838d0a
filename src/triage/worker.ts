// Worker-thread entry for `--jobs N`: triages one source and reports problems, progress and the result.
import { parentPort, workerData } from 'node:worker_threads';
import { EvidenceError } from '../fs/open-evidence.js';
import { type SourceTriageRequest, triageSource } from './triage-source.js';

const port = parentPort;
if (port) {
  const req = workerData as SourceTriageRequest;
  triageSource({
    ...req,
    onProblem: (problem) => port.postMessage({ type: 'problem', problem }),
    onProgress: (progress) => port.postMessage({ type: 'progress', progress }),
  }).then(
    (result) => port.postMessage({ type: 'result', result }),
    (err: unknown) =>
      port.postMessage({
        type: 'error',
        message: err instanceof Error ? err.message : String(err),
        evidence: err instanceof EvidenceError,
      }),
  );
}
