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
/** nats-server's permissions of a user (NatsPermissions of @trajectory/bus). */
export interface NatsPermissions {
  publish: { allow: string[] } | { deny: string[] };
  subscribe: { allow: string[] };
}
/** A NATS user: its password, or `{ env: NAME }` for a reference the server resolves from its environment. */
export interface NatsUserEntry {
  user: string;
  password: string | { env: string };
  permissions: NatsPermissions;
}
/** A nats-server configuration file: JetStream, and with `users` auth on (2.9 and 2.10 syntax). */
export declare function natsConfig(options: {
  listen: string;
  serverName: string;
  storeDir: string;
  maxPayload?: number;
  /** host:port of the monitoring endpoint (/healthz) */
  monitor?: string;
  users?: NatsUserEntry[];
  /** comment lines at the top */
  header?: string;
}): string;
/** nats-server with JetStream on loopback; with `users`, auth on and each user held to its permissions. */
export declare function startNats(options: {
  dataDir: string;
  port?: number;
  maxPayload?: number;
  detached?: boolean;
  users?: NatsUserEntry[];
}): Promise<RunningServer & { url: string; configFile: string }>;
/** The file name of the local NATS users' passwords under the servers' data directory. */
export declare const NATS_CREDENTIALS_FILE: 'nats-credentials.json';
/** The password of each of `users` from `file` (JSON: user -> password), generated when missing (mode 0600). */
export declare function ensureNatsCredentials(file: string, users: string[]): Record<string, string>;
/** The NATS passwords in `file` (JSON: user -> password). */
export declare function readNatsCredentials(file: string): Record<string, string>;
/** The local Neo4j's one user (Neo4j Community has no roles). */
export declare const NEO4J_USER: 'neo4j';
/**
 * The secret in `file` (first line), or a new random one written there first (mode 0600);
 * `what` names it in errors, one shorter than minLength (default 16) is refused.
 */
export declare function ensureSecretFile(file: string, what: string, minLength?: number): string;
/** The secret in `file` (first line), refused when shorter than minLength (default 16). */
export declare function readSecretFile(file: string, what: string, minLength?: number): string;
/** The Neo4j password in `file`, generated there when missing (ensureSecretFile). */
export declare function ensureNeo4jPassword(file: string): string;
/** The file name of the local services' gRPC token under the servers' data directory. */
export declare const GRPC_TOKEN_FILE: 'grpc-token';
/** The local services' gRPC token (GRPC_TOKEN) in DATA_DIR/grpc-token, generated there when missing. */
export declare function ensureGrpcToken(options: { dataDir: string }): string;
/**
 * Neo4j with Bolt and HTTP (Neo4j Browser) on loopback, auth on (user neo4j, the password of
 * passwordFile, default DATA_DIR/neo4j-password, generated when missing); free ports where none
 * are given.
 */
export declare function startNeo4j(options: {
  dataDir: string;
  passwordFile?: string;
  boltPort?: number;
  httpPort?: number;
  detached?: boolean;
}): Promise<
  RunningServer & {
    /** bolt://127.0.0.1:PORT */
    uri: string;
    /** http://127.0.0.1:HTTP_PORT: discovery at /, Neo4j Browser at /browser/ */
    httpUrl: string;
    /** The Browser page, its connect form preset to this Bolt URL, user neo4j and a password */
    browserUrl: string;
    /** What clients log in with */
    auth: { user: string; password: string };
    /** Where the password is (mode 0600) */
    passwordFile: string;
    httpPort: number;
  }
>;

export interface LocalServersState {
  nats: { url: string; pid: number; log: string; credentialsFile: string };
  neo4j: { uri: string; httpUrl: string; browserUrl: string; user: string; passwordFile: string; pid: number; log: string };
}
/**
 * Ports default to NATS 4222, Bolt 7687 and HTTP 7474 (or TRAJECTORY_HTTP_PORT). NATS runs with
 * `natsUsers` (natsUsers() of @trajectory/bus), their passwords in DATA_DIR/nats-credentials.json.
 */
export declare function startLocalServers(options: {
  dataDir: string;
  natsUsers: { user: string; permissions: NatsPermissions }[];
  natsPort?: number;
  boltPort?: number;
  httpPort?: number;
}): Promise<LocalServersState>;
/** The credentials of the local Neo4j startLocalServers recorded under dataDir, if any. */
/** The login of `user` on the local NATS startLocalServers recorded under dataDir, if any. */
export declare function localNatsAuth(options: {
  dataDir: string;
  user: string;
}): { url: string; user: string; password: string } | undefined;
export declare function localNeo4jAuth(options: {
  dataDir: string;
}): { uri: string; user: string; password: string } | undefined;
export declare function stopLocalServers(options: { dataDir: string }): Promise<boolean>;
export declare function localServersStatus(options: {
  dataDir: string;
}): (LocalServersState & { nats: { running: boolean }; neo4j: { running: boolean } }) | undefined;
