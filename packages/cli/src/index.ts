export { buildDataset, graphStats, ingestStatus, listTrainingJobs, submitTrainingJob, uploadExport, waitForStored } from './pipeline.js';
export { loadTargets, type Targets } from './targets.js';
