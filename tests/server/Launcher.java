// Launcher: one mongo-java-server on 127.0.0.1, for the test bed.
//
//   java -cp JARS:. Launcher --port-file F [--port N]
//
// In-memory backend with the oplog enabled (change streams need it), bound
// to loopback only; the port actually bound is written to F (atomically)
// once the server accepts connections.  Runs until killed.
//
// Where mongo-java-server deviates from MongoDB in a way a client can trip
// over, the launcher installs MongoDB's behaviour (tests/server/README.md):
//   - a find without batchSize returns the whole result in its first batch
//     (a large collection fails with "Message size ... not within
//     16-48000000"), and a getMore without batchSize fails an assertion.
//     MongoDB answers the first batch with 101 documents and each getMore
//     with as many documents as fit in 16 MiB; so do our cursors.
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.AbstractCursor;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Cursor;
import de.bwaldvogel.mongo.backend.DatabaseResolver;
import de.bwaldvogel.mongo.oplog.Oplog;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.buffer.Unpooled;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

public final class Launcher {
    static final int DEFAULT_FIRST_BATCH = 101;
    static final int MAX_BATCH_BYTES = 16 * 1024 * 1024;

    static int bsonSize(Document d) {
        ByteBuf buf = Unpooled.buffer();
        try {
            BsonEncoder.encodeDocument(d, buf);
            return buf.writerIndex();
        } finally {
            buf.release();
        }
    }

    /** A cursor whose getMore without batchSize returns up to 16 MiB, as MongoDB's. */
    static final class SizedCursor extends AbstractCursor {
        private List<Document> remaining;

        SizedCursor(long id, List<Document> remaining) {
            super(id);
            this.remaining = remaining;
        }

        @Override
        public boolean isEmpty() {
            return remaining.isEmpty();
        }

        @Override
        public List<Document> takeDocuments(int numberToReturn) {
            int n;
            if (numberToReturn > 0) {
                n = Math.min(numberToReturn, remaining.size());
            } else {
                long bytes = 0;
                n = 0;
                while (n < remaining.size()) {
                    bytes += bsonSize(remaining.get(n));
                    if (n > 0 && bytes > MAX_BATCH_BYTES) {
                        break;
                    }
                    n++;
                }
            }
            List<Document> out = remaining.subList(0, n);
            remaining = remaining.subList(n, remaining.size());
            return out;
        }
    }

    static final class PipesCollection extends MemoryCollection {
        PipesCollection(MongoDatabase db, String name, CollectionOptions options, CursorRegistry registry) {
            super(db, name, options, registry);
        }

        @Override
        protected Cursor createCursor(List<Document> remainingDocuments) {
            SizedCursor cursor = new SizedCursor(cursorRegistry.generateCursorId(), remainingDocuments);
            cursorRegistry.add(cursor);
            return cursor;
        }
    }

    static final class PipesDatabase extends MemoryDatabase {
        PipesDatabase(String name, CursorRegistry registry) {
            super(name, registry);
        }

        // Only the wire command gets MongoDB's default first batch: the
        // server's own internal queries (aggregation stages) must see all.
        @Override
        public Document handleCommand(Channel channel, String command, Document query,
                                      DatabaseResolver resolver, Oplog oplog) {
            if (command.equalsIgnoreCase("find") && !query.containsKey("batchSize")) {
                query = query.clone();
                query.put("batchSize", DEFAULT_FIRST_BATCH);
            }
            return super.handleCommand(channel, command, query, resolver, oplog);
        }

        @Override
        protected MemoryCollection openOrCreateCollection(String name, CollectionOptions options) {
            return new PipesCollection(this, name, options, cursorRegistry);
        }
    }

    static final class PipesBackend extends MemoryBackend {
        @Override
        public MemoryDatabase openOrCreateDatabase(String name) {
            return new PipesDatabase(name, getCursorRegistry());
        }
    }

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
        MemoryBackend backend = new PipesBackend();
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
