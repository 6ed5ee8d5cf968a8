export {
  buildDataset,
  drawSpotCheck,
  getSpotCheck,
  graphStats,
  ingestedConversations,
  ingestStatus,
  listTrainingJobs,
  recordVerdict,
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
  spotCheckWaiting,
  submitJob,
  submitOrAwaitSpotCheck,
  watchJob,
} from './training.js';
