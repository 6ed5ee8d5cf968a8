import type { ChildProcess } from 'node:child_process';

export declare const LAUNCHER_DIR: string;
export declare const LAUNCHER_JAR: string;

export interface RunningServer {
  port: number;
  pid: number | undefined;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

export declare function freePort(): Promise<number>;
export declare function buildNeo4jLauncher(): void;
export declare function startNats(options: {
  dataDir: string;
  port?: number;
  maxPayload?: number;
  detached?: boolean;
}): Promise<RunningServer & { url: string }>;
export declare function startNeo4j(options: {
  dataDir: string;
  boltPort?: number;
  detached?: boolean;
}): Promise<RunningServer & { uri: string }>;

export interface LocalServersState {
  nats: { url: string; pid: number; log: string };
  neo4j: { uri: string; pid: number; log: string };
}
export declare function startLocalServers(options: {
  dataDir: string;
  natsPort?: number;
  boltPort?: number;
}): Promise<LocalServersState>;
export declare function stopLocalServers(options: { dataDir: string }): Promise<boolean>;
export declare function localServersStatus(options: {
  dataDir: string;
}): (LocalServersState & { nats: { running: boolean }; neo4j: { running: boolean } }) | undefined;
