import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

/**
 * A Neo4j Community DBMS (embedded) with only the Bolt connector, on 127.0.0.1.
 *
 * <p>Usage: {@code java ... TraceGraphNeo4jServer <home dir> <bolt port> [<owner pid>]}; the
 * password of user {@code neo4j} comes from the environment variable
 * {@code TRACEGRAPH_NEO4J_PASSWORD} (not argv, which every local user can read in ps). With an
 * owner pid, the server stops itself when that process is gone, so a killed test run leaves no
 * JVM behind. Started and stopped by graph/neo4j/server.py.
 */
public final class TraceGraphNeo4jServer {
  static final String READY = "TRACEGRAPH_NEO4J_READY";

  public static void main(String[] args) throws Exception {
    try {
      serve(args);
    } catch (Throwable t) {
      // The DBMS runs non-daemon threads: without an explicit exit a failed start would hang
      // here instead of ending (the shutdown hook still closes whatever was opened).
      t.printStackTrace();
      System.exit(1);
    }
  }

  private static void serve(String[] args) throws Exception {
    if (args.length < 2 || args.length > 3) {
      System.err.println("usage: TraceGraphNeo4jServer <home dir> <bolt port> [<owner pid>]");
      System.exit(2);
    }
    Path home = Path.of(args[0]).toAbsolutePath();
    int port = Integer.parseInt(args[1]);
    String password = System.getenv("TRACEGRAPH_NEO4J_PASSWORD");
    if (password == null || password.isEmpty()) {
      System.err.println("TRACEGRAPH_NEO4J_PASSWORD is not set");
      System.exit(2);
    }
    SocketAddress bolt = new SocketAddress("127.0.0.1", port);

    // Fresh home: set the password with Bolt off, so no client ever sees the default
    // neo4j/neo4j account. Costs one extra short boot, only on the first start.
    boolean fresh = !home.resolve("data").toFile().exists();
    if (fresh) {
      DatabaseManagementService setup = builder(home, bolt, false).build();
      try {
        setPassword(setup, password);
      } finally {
        setup.shutdown();
      }
    }

    DatabaseManagementService dbms = builder(home, bolt, true).build();
    // SIGTERM/SIGINT and System.exit run this: a clean shutdown (checkpoint) keeps the
    // store consistent, so the next start needs no recovery.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("TRACEGRAPH_NEO4J_STOPPING");
                  dbms.shutdown();
                  System.out.println("TRACEGRAPH_NEO4J_STOPPED");
                }));
    if (!fresh) {
      // Existing store: the caller's password wins (a new run may bring a new one).
      setPassword(dbms, password);
    }
    if (args.length == 3) {
      ProcessHandle.of(Long.parseLong(args[2]))
          .ifPresentOrElse(
              owner -> owner.onExit().thenRun(() -> System.exit(0)), () -> System.exit(0));
    }
    System.out.println(READY + " bolt://127.0.0.1:" + port);
    System.out.flush();
    new CountDownLatch(1).await(); // serve until a signal ends the JVM
  }

  private static DatabaseManagementServiceBuilder builder(
      Path home, SocketAddress bolt, boolean boltEnabled) {
    return new DatabaseManagementServiceBuilder(home)
        .setConfig(GraphDatabaseSettings.auth_enabled, true)
        .setConfig(BoltConnector.enabled, boltEnabled)
        .setConfig(BoltConnector.listen_address, bolt)
        // Advertised = listen address, so a neo4j:// routing table points back here.
        .setConfig(BoltConnector.advertised_address, bolt)
        .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
        // Sized for tests on a small machine (heap is set on the java command line).
        .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(256))
        // Per-transaction memory limit in MiB (0: none, the default): lets tests see the
        // server refuse a transaction for its size.
        .setConfig(
            GraphDatabaseSettings.memory_transaction_max_size,
            ByteUnit.mebiBytes(Long.getLong("tracegraph.transaction.max.mib", 0L)))
        .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
        .setConfig(GraphDatabaseSettings.udc_enabled, false)
        // Netty otherwise waits a 5 s quiet period per Bolt connector (two of them) before
        // the JVM may exit: 10 s on every stop. Internal, but this version is pinned.
        .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0);
  }

  private static void setPassword(DatabaseManagementService dbms, String password) {
    // Embedded transactions run with full rights, so this works whatever the old password.
    // 5.26 refuses to "change" a password to its current value, so go through a throwaway.
    GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
    String alter = "ALTER USER neo4j SET PASSWORD $p CHANGE NOT REQUIRED";
    system.executeTransactionally(alter, Map.of("p", UUID.randomUUID().toString()));
    system.executeTransactionally(alter, Map.of("p", password));
  }
}
