// The samples package's library surface (its pure core); main.ts starts the service.
export * from './core/report.js';
export * from './core/trajectories.js';
