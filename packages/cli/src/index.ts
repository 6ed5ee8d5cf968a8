export { buildDataset, graphStats, ingestStatus, listTrainingJobs, uploadExport, waitForStored } from './pipeline.js';
export { loadTargets, type Targets } from './targets.js';
export {
  cancelJob,
  fetchAdapter,
  formatAdapter,
  formatDuration,
  formatJob,
  getJob,
  isJobEnded,
  listAdapters,
  type SubmitOptions,
  submitJob,
  watchJob,
} from './training.js';
