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
  timeStepFindings,
  type Finding,
  type FindingsInput,
  type Severity,
} from './findings.js';
