// Launcher: one mongo-java-server on 127.0.0.1, for the test bed.
//
//   java -cp JARS:. Launcher --port-file F [--port N]
//
// In-memory backend with the oplog enabled (change streams need it), bound
// to loopback only; the port actually bound is written to F (atomically)
// once the server accepts connections.  Runs until killed.
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

public final class Launcher {
    public static void main(String[] args) throws Exception {
        int port = 0;
        Path portFile = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--port-file" -> portFile = Path.of(args[++i]);
                default -> {
                    System.err.println("Launcher: unknown argument " + args[i]);
                    System.exit(64);
                }
            }
        }
        if (portFile == null) {
            System.err.println("Launcher: --port-file is required");
            System.exit(64);
        }
        MemoryBackend backend = new MemoryBackend();
        MongoServer server = new MongoServer(backend);
        server.enableOplog();
        server.bind("127.0.0.1", port);
        InetSocketAddress addr = server.getLocalAddress();
        Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
        Files.writeString(tmp, Integer.toString(addr.getPort()) + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        Thread.currentThread().join();
    }
}
