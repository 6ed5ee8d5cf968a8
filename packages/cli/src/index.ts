export {
  buildDataset,
  graphStats,
  ingestedConversations,
  ingestStatus,
  listTrainingJobs,
  uploadExport,
  type WaitOptions,
  waitForStored,
} from './pipeline.js';
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
