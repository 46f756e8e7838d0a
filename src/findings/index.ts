// Public surface of the findings layer (rules over the Docker inventory and writable-layer changes).
export {
  computeFindings,
  DANGEROUS_CAPS,
  FINDING_COLUMNS,
  FINDING_SOURCE,
  findingEvents,
  findingJson,
  findingRow,
  journaldStorage,
  RULES,
  SEVERITY_RANK,
  sortFindings,
  type Finding,
  type FindingsInput,
  type Severity,
} from './findings.js';
export { MAX_TIME_STEP_FINDINGS, timeStepFindings } from './time-step-findings.js';
