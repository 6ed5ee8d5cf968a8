package dev.trajectory.neo4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Result;
import org.neo4j.graphdb.Transaction;
import org.neo4j.io.ByteUnit;
import org.neo4j.io.fs.DefaultFileSystemAbstraction;
import org.neo4j.kernel.impl.security.User;
import org.neo4j.logging.NullLogProvider;
import org.neo4j.memory.EmptyMemoryTracker;
import org.neo4j.server.security.auth.CommunitySecurityModule;
import org.neo4j.server.security.auth.FileUserRepository;
import org.neo4j.server.security.auth.LegacyCredential;
import org.neo4j.server.configuration.ConfigurableServerModules;
import org.neo4j.server.configuration.ServerSettings;

import inet.ipaddr.IPAddressString;
import sun.misc.Signal;

/**
 * Runs the real Neo4j 5 Community engine embedded, exposing the Bolt connector and the HTTP
 * connector with Neo4j Browser at {@code /browser/} and the discovery document at {@code /}
 * (Neo4j's HTTP query API stays off; loopback by default), so that Bolt clients
 * such as the JavaScript {@code neo4j-driver}, and people with a web browser, talk to it
 * exactly as they would to a standalone server. The web server is Neo4j's own
 * (neo4j-server, part of {@code org.neo4j:neo4j}): the DBMS starts it when the HTTP connector is
 * enabled, and its Browser module serves {@code org.neo4j.client:neo4j-browser} from the classpath.
 *
 * <p>Auth is on: the one user {@code neo4j} (Community has no roles) has the password read from
 * {@code --password-file}, set before Bolt or HTTP accept a connection (see {@link #applyPassword}).
 * {@code LOAD CSV} reads no host file: file URLs are refused and the import root is the empty
 * folder {@code DATA/import}; nor does it fetch from any address (Cypher's IP blocklist covers
 * every IPv4 and IPv6 address).
 *
 * <p>Protocol with the caller (stdout, one line each, flushed):
 * <ul>
 *   <li>{@code NEO4J_READY bolt://HOST:PORT http://HOST:HTTP_PORT} once the default database
 *       is available, the Bolt port accepts connections and the HTTP port answers with the
 *       discovery document and the Browser page ({@code NEO4J_READY bolt://HOST:PORT} alone
 *       with {@code --no-http});</li>
 *   <li>{@code NEO4J_STOPPED} after a clean shutdown (SIGTERM / SIGINT / SIGHUP, or stdin EOF
 *       with {@code --stop-on-stdin-eof}); the process then exits 0.</li>
 * </ul>
 * Neo4j's own logs go to {@code DATA/logs/} (debug.log); only fatal errors go to stderr.
 * Exit codes: 0 clean stop, 1 startup failure, 2 usage error.
 */
public final class Neo4jLauncher {

    private static final String USAGE = String.join("\n",
            "Usage: java @jvm.options -jar neo4j-launcher.jar --data DIR --password-file FILE [options]",
            "",
            "  --data DIR              Neo4j home/data directory (required; created if missing).",
            "                          Store files go to DIR/data, logs to DIR/logs.",
            "  --password-file FILE    The password of the user 'neo4j' (required; first line,",
            "                          8+ characters). Set on each start when it changed.",
            "  --bolt-port N           Bolt port (1-65535, default 7687).",
            "  --http-port N           HTTP port: Neo4j Browser at /browser/, discovery at /",
            "                          (1-65535, default 7474).",
            "  --no-http               Bolt only: no HTTP connector, no Browser.",
            "  --listen-host HOST      Bolt and HTTP listen address (default 127.0.0.1).",
            "  --advertised-host HOST  Host advertised in routing tables (default: listen host,",
            "                          or 'localhost' when listening on a wildcard address).",
            "  --pagecache SIZE        Page cache size, Neo4j syntax, e.g. 256m (default 256m).",
            "  --startup-timeout SECS  Give up if not ready within SECS (default 120).",
            "  --stop-on-stdin-eof     Also shut down cleanly when stdin reaches EOF (lets a",
            "                          parent process that dies without signalling stop us).",
            "  --no-warmup             Skip the Cypher warm-up before READY (READY comes a",
            "                          little sooner, but the first client query is slower).",
            "  --conf KEY=VALUE        Extra raw Neo4j setting (repeatable), e.g.",
            "                          --conf db.transaction.timeout=30s",
            "  -h, --help              Show this help.",
            "");

    private static final PrintStream OUT = new PrintStream(
            new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);

    private final AtomicBoolean stopped = new AtomicBoolean(false);
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private volatile DatabaseManagementService dbms;

    public static void main(String[] args) {
        Options opts;
        try {
            opts = Options.parse(args);
        } catch (UsageException e) {
            if (e.getMessage() == null) { // --help
                OUT.print(USAGE);
                OUT.flush();
                System.exit(0);
            }
            System.err.println("neo4j-launcher: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        System.exit(new Neo4jLauncher().run(opts));
    }

    private int run(Options opts) {
        // Signals: orderly shutdown followed by exit status 0 (a plain JVM exits 143/130).
        for (String sig : new String[] {"TERM", "INT", "HUP"}) {
            try {
                Signal.handle(new Signal(sig), s -> stopRequested.countDown());
            } catch (IllegalArgumentException ignored) {
                // signal not available on this platform/JVM configuration
            }
        }
        // Safety net for any other JVM exit path (System.exit elsewhere, uncaught error, ...).
        Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "neo4j-launcher-shutdown"));

        if (opts.stopOnStdinEof) {
            Thread t = new Thread(() -> {
                try (InputStream in = System.in) {
                    byte[] buf = new byte[256];
                    while (in.read(buf) >= 0) {
                        // discard
                    }
                } catch (IOException ignored) {
                    // treat as EOF
                }
                stopRequested.countDown();
            }, "neo4j-launcher-stdin-watch");
            t.setDaemon(true);
            t.start();
        }

        try {
            Files.createDirectories(opts.dataDir);
        } catch (IOException e) {
            System.err.println("neo4j-launcher: cannot create data directory " + opts.dataDir + ": " + e);
            return 1;
        }

        String password;
        try {
            password = readPassword(opts.passwordFile);
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("neo4j-launcher: " + e.getMessage());
            return 1;
        }

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(opts.startupTimeoutSecs);
        try {
            applyPassword(opts, password);
            dbms = build(opts);
            GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            while (!db.isAvailable(TimeUnit.SECONDS.toMillis(1))) {
                if (stopRequested.getCount() == 0) {
                    stop();
                    return 0;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("database '" + db.databaseName()
                            + "' not available after " + opts.startupTimeoutSecs + "s");
                }
            }
            if (opts.warmup) {
                warmUp(db);
            }
            waitForBolt(opts, deadline);
            if (opts.http) {
                waitForHttp(opts, deadline);
            }
            if (stopRequested.getCount() == 0) {
                stop();
                return 0;
            }
        } catch (Throwable e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            System.err.println("neo4j-launcher: startup failed: " + root);
            e.printStackTrace(System.err);
            System.err.println("neo4j-launcher: startup failed: " + root);
            System.err.println("neo4j-launcher: see " + opts.dataDir.resolve("logs").resolve("debug.log"));
            stop(false);
            return 1;
        }

        String ready = "NEO4J_READY bolt://" + urlHost(opts.advertisedHost()) + ":" + opts.boltPort;
        if (opts.http) {
            ready += " " + httpUrl(opts);
        }
        OUT.println(ready);
        OUT.flush();

        try {
            stopRequested.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stop();
        return 0;
    }

    /** The first line of the password file, which Neo4j must accept (8+ characters). */
    private static String readPassword(Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException("cannot read the password file " + file);
        }
        String password = Files.readString(file, StandardCharsets.UTF_8).lines().findFirst().orElse("").strip();
        if (password.length() < 8) {
            throw new IllegalArgumentException("the password in " + file + " is shorter than 8 characters");
        }
        return password;
    }

    /**
     * Makes {@code password} the password of the user {@code neo4j} before any connector
     * listens, so that no client ever meets Neo4j's default credentials. A new store gets it as
     * its initial user ({@code DATA/data/dbms/auth.ini}, the file {@code neo4j-admin dbms
     * set-initial-password} writes, read once when the system database is created). A store whose
     * password came from another file, or that ran without auth, is started once with no
     * connector at all for an {@code ALTER USER}. The marker {@code DATA/launcher-auth} (a salted
     * SHA-256 of the password, mode 0600) tells which password the store has.
     */
    private static void applyPassword(Options opts, String password) throws Exception {
        Path marker = opts.dataDir.resolve("launcher-auth");
        if (!Files.exists(opts.dataDir.resolve("data").resolve("databases").resolve("system"))) {
            writeInitialUser(opts, password);
        } else if (!markerMatches(marker, password)) {
            alterPasswordOffline(opts, password);
        } else {
            return;
        }
        writeOwnerOnly(marker, passwordDigest(randomSalt(), password));
    }

    private static void writeInitialUser(Options opts, String password) throws Exception {
        Path file = CommunitySecurityModule.getInitialUserRepositoryFile(
                org.neo4j.configuration.Config.newBuilder().set(GraphDatabaseSettings.neo4j_home, opts.dataDir).build());
        Files.createDirectories(file.getParent());
        Files.deleteIfExists(file);
        try (DefaultFileSystemAbstraction fs = new DefaultFileSystemAbstraction()) {
            FileUserRepository users =
                    new FileUserRepository(fs, file, NullLogProvider.getInstance(), EmptyMemoryTracker.INSTANCE);
            users.start();
            users.create(new User("neo4j", null, LegacyCredential.forPassword(password), false, false));
            users.stop();
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    private static void alterPasswordOffline(Options opts, String password) throws IOException {
        DatabaseManagementService offline = builder(opts)
                .setConfig(BoltConnector.enabled, false)
                .setConfig(HttpConnector.enabled, false)
                .build();
        try {
            offline.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
        } catch (RuntimeException e) {
            // The store already has this password (the marker was lost): nothing to change.
            if (!String.valueOf(e.getMessage()).contains("Old password and new password cannot be the same")) {
                throw e;
            }
        } finally {
            offline.shutdown();
        }
    }

    private static boolean markerMatches(Path marker, String password) throws IOException {
        if (!Files.isRegularFile(marker)) {
            return false;
        }
        String[] saltAndHash = Files.readString(marker, StandardCharsets.UTF_8).strip().split(":");
        if (saltAndHash.length != 2) {
            return false;
        }
        try {
            byte[] salt = HexFormat.of().parseHex(saltAndHash[0]);
            return MessageDigest.isEqual(
                    passwordDigest(salt, password).getBytes(StandardCharsets.UTF_8),
                    (saltAndHash[0] + ":" + saltAndHash[1]).getBytes(StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static byte[] randomSalt() {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return salt;
    }

    private static String passwordDigest(byte[] salt, String password) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(salt);
            sha.update(password.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(salt) + ":" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeOwnerOnly(Path file, String content) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, content + "\n", StandardCharsets.UTF_8);
    }

    private static DatabaseManagementService build(Options opts) throws IOException {
        return builder(opts).build();
    }

    private static DatabaseManagementServiceBuilder builder(Options opts) throws IOException {
        Path importDir = opts.dataDir.resolve("import");
        Files.createDirectories(importDir);
        DatabaseManagementServiceBuilder b = new DatabaseManagementServiceBuilder(opts.dataDir)
                // Connectors: Bolt, and HTTP (Neo4j Browser) unless --no-http; never HTTPS.
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(opts.listenHost, opts.boltPort))
                .setConfig(BoltConnector.advertised_address,
                        new SocketAddress(opts.advertisedHost(), opts.boltPort))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, opts.http)
                .setConfig(HttpConnector.listen_address, new SocketAddress(opts.listenHost, opts.httpPort))
                .setConfig(HttpConnector.advertised_address,
                        new SocketAddress(opts.advertisedHost(), opts.httpPort))
                .setConfig(HttpsConnector.enabled, false)
                // HTTP serves only the Browser and the discovery document at / (always on): Neo4j's
                // HTTP API (transactions, Query API; CORS '*' by default) would be one more way in
                // for any web page the user visits, and the Browser needs none of it (it talks Bolt
                // over WebSocket). --conf server.http_enabled_modules=
                // BROWSER,TRANSACTIONAL_ENDPOINTS,QUERY_API_ENDPOINTS turns the API on.
                .setConfig(ServerSettings.http_enabled_modules, EnumSet.of(ConfigurableServerModules.BROWSER))
                // Neo4j Browser: no usage telemetry from the page.
                .setConfig(ServerSettings.allow_telemetry, false)
                // Server-side routing is a cluster feature; off for a single instance
                // (neo4j:// URIs still work: the ROUTE reply points back at this Bolt port).
                .setConfig(GraphDatabaseSettings.routing_enabled, false)
                // Auth on, with the password of --password-file (applyPassword).
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                // LOAD CSV reads no host file: file URLs are refused, and the import root (which
                // embedded Neo4j leaves unset: the whole file system) is an empty folder ...
                .setConfig(GraphDatabaseSettings.allow_file_urls, false)
                .setConfig(GraphDatabaseSettings.load_csv_file_url_root, importDir)
                // ... nor fetches from any address, loopback services included. (Internal
                // setting; version is pinned.)
                .setConfig(GraphDatabaseInternalSettings.cypher_ip_blocklist,
                        List.of(new IPAddressString("0.0.0.0/0"), new IPAddressString("::/0")))
                // Never phone home.
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Modest footprint for a small shared machine.
                .setConfig(GraphDatabaseSettings.pagecache_memory, opts.pagecacheBytes)
                .setConfig(GraphDatabaseSettings.pagecache_warmup_enabled, false)
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "2 files")
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(16))
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                // Bolt's Netty event loops otherwise wait a 5 s "quiet period" on shutdown,
                // which makes every stop take 5+ s. (Internal setting; version is pinned.)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0);
        // The public builder has no raw string API; --conf values go through a generated
        // neo4j.conf-style file (loaded last, so it overrides the defaults above).
        Path extra = opts.dataDir.resolve("launcher-extra.conf");
        if (!opts.extraConf.isEmpty()) {
            StringBuilder sb = new StringBuilder("# generated by neo4j-launcher from --conf; overwritten on each start\n");
            opts.extraConf.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
            Files.writeString(extra, sb.toString(), StandardCharsets.UTF_8);
            b.loadPropertiesFromFile(extra);
        } else {
            Files.deleteIfExists(extra);
        }
        return b;
    }

    /**
     * Runs a representative query in a transaction that is rolled back, so the
     * one-off cost of loading/JIT-ing the Cypher parser, planner and runtime (several
     * seconds on a small machine) is paid before READY instead of by the first client
     * query. Leaves no data behind. Failures are reported but not fatal.
     */
    private static void warmUp(GraphDatabaseService db) {
        String[] queries = {
            "CREATE (a:`__LauncherWarmup` {id: $id})-[:`__WARMUP`]->(b:`__LauncherWarmup` {id: $id + 1})"
                + " WITH a MATCH (x:`__LauncherWarmup`) WHERE x.id >= $id RETURN count(x) AS c",
        };
        try (Transaction tx = db.beginTx()) {
            for (String q : queries) {
                try (Result r = tx.execute(q, Map.of("id", 1))) {
                    r.accept(row -> true);
                }
            }
            tx.rollback();
        } catch (RuntimeException e) {
            System.err.println("neo4j-launcher: warm-up failed (continuing): " + e);
        }
    }

    /** Polls until a TCP connection to the Bolt port succeeds. */
    private void waitForBolt(Options opts, long deadlineNanos) throws InterruptedException {
        String probeHost = isWildcard(opts.listenHost) ? "127.0.0.1" : opts.listenHost;
        IOException last = null;
        while (System.nanoTime() < deadlineNanos) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(probeHost, opts.boltPort), 1000);
                return;
            } catch (IOException e) {
                last = e;
            }
            if (stopRequested.getCount() == 0) {
                return; // run() notices the pending stop and shuts down without READY
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("Bolt port " + probeHost + ":" + opts.boltPort
                + " not accepting connections", last);
    }

    /**
     * Polls until the HTTP connector answers: the discovery document at {@code /} (what Neo4j
     * Browser reads to find the Bolt address) and the Browser page at {@code /browser/}, both 200.
     */
    private void waitForHttp(Options opts, long deadlineNanos) throws InterruptedException {
        String base = "http://" + urlHost(isWildcard(opts.listenHost) ? "127.0.0.1" : opts.listenHost)
                + ":" + opts.httpPort;
        String last = "no answer";
        for (String path : new String[] {"/", "/browser/"}) {
            URI uri = URI.create(base + path);
            while (true) {
                if (System.nanoTime() >= deadlineNanos) {
                    throw new IllegalStateException("HTTP " + uri + " not answering 200 (" + last + ")");
                }
                if (stopRequested.getCount() == 0) {
                    return; // run() notices the pending stop and shuts down without READY
                }
                try {
                    HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection(java.net.Proxy.NO_PROXY);
                    c.setConnectTimeout(1000);
                    c.setReadTimeout(5000);
                    c.setRequestProperty("Accept", path.equals("/") ? "application/json" : "text/html");
                    try {
                        int status = c.getResponseCode();
                        try (InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream()) {
                            if (in != null) {
                                in.readAllBytes();
                            }
                        }
                        if (status == 200) {
                            break;
                        }
                        last = "status " + status;
                    } finally {
                        c.disconnect();
                    }
                } catch (IOException e) {
                    last = e.toString();
                }
                Thread.sleep(50);
            }
        }
    }

    private static String httpUrl(Options opts) {
        return "http://" + urlHost(opts.advertisedHost()) + ":" + opts.httpPort;
    }

    private void stop() {
        stop(true);
    }

    /** Idempotent, thread-safe clean shutdown; prints NEO4J_STOPPED once if {@code announce}. */
    private void stop(boolean announce) {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        DatabaseManagementService s = dbms;
        if (s != null) {
            try {
                s.shutdown();
            } catch (Throwable e) {
                System.err.println("neo4j-launcher: error during shutdown: " + e);
            }
        }
        if (announce) {
            OUT.println("NEO4J_STOPPED");
            OUT.flush();
        }
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    private static String urlHost(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private static final class UsageException extends Exception {
        UsageException(String msg) {
            super(msg);
        }
    }

    private static final class Options {
        Path dataDir;
        Path passwordFile;
        int boltPort = BoltConnector.DEFAULT_PORT;
        int httpPort = HttpConnector.DEFAULT_PORT;
        boolean http = true;
        String listenHost = "127.0.0.1";
        String advertisedHost;
        long pagecacheBytes = ByteUnit.mebiBytes(256);
        long startupTimeoutSecs = 120;
        boolean stopOnStdinEof;
        boolean warmup = true;
        final Map<String, String> extraConf = new LinkedHashMap<>();

        String advertisedHost() {
            if (advertisedHost != null) {
                return advertisedHost;
            }
            return isWildcard(listenHost) ? "localhost" : listenHost;
        }

        static Options parse(String[] args) throws UsageException {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v = null;
                int eq = a.indexOf('=');
                if (a.startsWith("--") && eq > 0) {
                    v = a.substring(eq + 1);
                    a = a.substring(0, eq);
                }
                switch (a) {
                    case "-h":
                    case "--help":
                        throw new UsageException(null);
                    case "--stop-on-stdin-eof":
                        o.stopOnStdinEof = true;
                        break;
                    case "--no-warmup":
                        o.warmup = false;
                        break;
                    case "--no-http":
                        o.http = false;
                        break;
                    case "--data":
                    case "--password-file":
                    case "--bolt-port":
                    case "--http-port":
                    case "--listen-host":
                    case "--advertised-host":
                    case "--pagecache":
                    case "--startup-timeout":
                    case "--conf":
                        if (v == null) {
                            if (i + 1 >= args.length) {
                                throw new UsageException("missing value for " + a);
                            }
                            v = args[++i];
                        }
                        o.set(a, v);
                        break;
                    default:
                        throw new UsageException("unknown argument: " + args[i]);
                }
            }
            if (o.dataDir == null) {
                throw new UsageException("--data DIR is required");
            }
            if (o.passwordFile == null) {
                throw new UsageException("--password-file FILE is required (auth is always on)");
            }
            if (o.http && o.httpPort == o.boltPort) {
                throw new UsageException("--http-port and --bolt-port must differ (both " + o.boltPort + ")");
            }
            return o;
        }

        private void set(String name, String v) throws UsageException {
            switch (name) {
                case "--data":
                    if (v.isBlank()) {
                        throw new UsageException("--data must not be empty");
                    }
                    dataDir = Path.of(v).toAbsolutePath().normalize();
                    break;
                case "--password-file":
                    if (v.isBlank()) {
                        throw new UsageException("--password-file must not be empty");
                    }
                    passwordFile = Path.of(v).toAbsolutePath().normalize();
                    break;
                case "--bolt-port":
                    try {
                        boltPort = Integer.parseInt(v);
                    } catch (NumberFormatException e) {
                        boltPort = -1;
                    }
                    if (boltPort < 1 || boltPort > 65535) {
                        throw new UsageException("--bolt-port must be an integer in 1..65535, got: " + v);
                    }
                    break;
                case "--http-port":
                    try {
                        httpPort = Integer.parseInt(v);
                    } catch (NumberFormatException e) {
                        httpPort = -1;
                    }
                    if (httpPort < 1 || httpPort > 65535) {
                        throw new UsageException("--http-port must be an integer in 1..65535, got: " + v);
                    }
                    break;
                case "--listen-host":
                    if (v.isBlank()) {
                        throw new UsageException("--listen-host must not be empty");
                    }
                    listenHost = v;
                    break;
                case "--advertised-host":
                    if (v.isBlank()) {
                        throw new UsageException("--advertised-host must not be empty");
                    }
                    advertisedHost = v;
                    break;
                case "--pagecache":
                    try {
                        pagecacheBytes = ByteUnit.parse(v);
                    } catch (RuntimeException e) {
                        throw new UsageException("--pagecache: invalid size: " + v);
                    }
                    break;
                case "--startup-timeout":
                    try {
                        startupTimeoutSecs = Duration.ofSeconds(Long.parseLong(v)).getSeconds();
                    } catch (RuntimeException e) {
                        throw new UsageException("--startup-timeout: invalid seconds: " + v);
                    }
                    if (startupTimeoutSecs < 1) {
                        throw new UsageException("--startup-timeout must be >= 1");
                    }
                    break;
                case "--conf":
                    int eq = v.indexOf('=');
                    if (eq <= 0) {
                        throw new UsageException("--conf expects KEY=VALUE, got: " + v);
                    }
                    extraConf.put(v.substring(0, eq).trim(), v.substring(eq + 1).trim());
                    break;
                default:
                    throw new UsageException("unknown option " + name);
            }
        }
    }
}
