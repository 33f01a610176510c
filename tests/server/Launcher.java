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
//   - change events lack ns, wallTime and updateDescription, report a
//     replacement as an update with the update spec as documentKey, and only
//     collection streams exist.  EventLog records events in MongoDB's format
//     as the collections change (insert, update with updateDescription
//     diffed from the old and new document, replace, delete, drop, rename,
//     dropDatabase, invalidate; create/createIndexes/dropIndexes with
//     showExpandedEvents), and ChangeCursor serves collection, database and
//     deployment streams with resumeAfter/startAfter/startAtOperationTime,
//     fullDocument lookups, postBatchResumeToken and awaitData getMores.
//     The log keeps the newest MP_OPLOG_MAX events (default 500000): a
//     resume point older than that fails with ChangeStreamHistoryLost (286).
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.AbstractCursor;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Cursor;
import de.bwaldvogel.mongo.backend.DatabaseResolver;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.aggregation.Aggregation;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.exception.MongoServerError;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

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


    // ---- change events in MongoDB's format ----

    /** One recorded event: where it happened and the event as MongoDB writes it. */
    record Ev(long ts, String db, String coll, boolean expanded, Document event) {}

    static String token(long ts, int kind) {
        return String.format("%016X%02X", ts, kind);
    }

    static long tokenTs(Object id) {
        if (!(id instanceof Document d) || !(d.get("_data") instanceof String hex) || hex.length() != 18) {
            throw new MongoServerError(260, "InvalidResumeToken", "resume token is not one of this server's");
        }
        return Long.parseUnsignedLong(hex.substring(0, 16), 16);
    }

    static boolean tokenIsInvalidate(Object id) {
        return ((String) ((Document) id).get("_data")).endsWith("01");
    }

    static final class EventLog {
        final ReentrantLock lock = new ReentrantLock();
        final Condition added = lock.newCondition();
        final ArrayList<Ev> events = new ArrayList<>();
        int dropped; // events[0] is event number `dropped` of all time
        long lastTs;
        long lostBefore = -1; // ts of the newest event dropped from the log
        final int max;

        EventLog(int max) {
            this.max = max;
        }

        long nextTs() {
            long now = (System.currentTimeMillis() / 1000) << 32;
            lastTs = Math.max(lastTs + 1, now | 1);
            return lastTs;
        }

        /** Append an event (fields after _id, operationType, clusterTime, wallTime). */
        void record(String op, String db, String coll, boolean expanded, Document rest) {
            lock.lock();
            try {
                long ts = nextTs();
                Document ev = new Document("_id", new Document("_data", token(ts, 0)))
                    .append("operationType", op)
                    .append("clusterTime", new BsonTimestamp(ts))
                    .append("wallTime", Instant.now());
                ev.putAll(rest);
                events.add(new Ev(ts, db, coll, expanded, ev));
                if (events.size() > max) {
                    int cut = events.size() / 10;
                    lostBefore = events.get(cut - 1).ts();
                    events.subList(0, cut).clear();
                    dropped += cut;
                }
                added.signalAll();
            } finally {
                lock.unlock();
            }
        }

        /** Index of the first event with ts > after (lock held). */
        int indexAfter(long after) {
            int lo = 0, hi = events.size();
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (events.get(mid).ts() <= after) lo = mid + 1; else hi = mid;
            }
            return lo + dropped;
        }
    }

    static final EventLog LOG = new EventLog(Integer.parseInt(
        Objects.requireNonNullElse(System.getenv("MP_OPLOG_MAX"), "500000")));

    static final ThreadLocal<Boolean> REPLACING = ThreadLocal.withInitial(() -> false);

    static Document ns(String db, String coll) {
        Document d = new Document("db", db);
        if (coll != null) d.append("coll", coll);
        return d;
    }

    static boolean isSystem(String db, String coll) {
        return db.equals("admin") || db.equals("config") || db.equals("local")
            || (coll != null && coll.startsWith("system."));
    }

    /** MongoDB's updateDescription for old -> new: paths set, removed, arrays cut. */
    static void diff(String prefix, Document a, Document b, Document set, List<String> removed, List<Document> cut) {
        for (String k : a.keySet()) {
            if (!b.containsKey(k)) removed.add(prefix + k);
        }
        for (Map.Entry<String, Object> e : b.entrySet()) {
            String k = e.getKey();
            Object nv = e.getValue();
            if (!a.containsKey(k)) {
                set.put(prefix + k, nv);
                continue;
            }
            Object ov = a.get(k);
            if (same(ov, nv)) continue;
            if (ov instanceof Document od && nv instanceof Document nd) {
                diff(prefix + k + ".", od, nd, set, removed, cut);
            } else if (ov instanceof List<?> ol && nv instanceof List<?> nl) {
                String path = prefix + k;
                if (nl.size() < ol.size()) cut.add(new Document("field", path).append("newSize", nl.size()));
                for (int i = 0; i < nl.size(); i++) {
                    Object x = i < ol.size() ? ol.get(i) : null;
                    Object y = nl.get(i);
                    if (i < ol.size() && same(x, y)) continue;
                    if (i < ol.size() && x instanceof Document xd && y instanceof Document yd) {
                        diff(path + "." + i + ".", xd, yd, set, removed, cut);
                    } else {
                        set.put(path + "." + i, y);
                    }
                }
            } else {
                set.put(prefix + k, nv);
            }
        }
    }

    /** Equal values of the same BSON type (Java's equals says 1 == 1L is false, as MongoDB's diff does). */
    static boolean same(Object x, Object y) {
        if (x instanceof Document dx && y instanceof Document dy) {
            if (!new ArrayList<>(dx.keySet()).equals(new ArrayList<>(dy.keySet()))) return false;
            for (String k : dx.keySet()) if (!same(dx.get(k), dy.get(k))) return false;
            return true;
        }
        if (x instanceof List<?> lx && y instanceof List<?> ly) {
            if (lx.size() != ly.size()) return false;
            for (int i = 0; i < lx.size(); i++) if (!same(lx.get(i), ly.get(i))) return false;
            return true;
        }
        return Objects.equals(x, y) && (x == null || x.getClass() == y.getClass());
    }

    /** The oplog hook: drops are recorded here; cursors are ours. */
    static final class PipesOplog implements Oplog {
        final PipesBackend backend;

        PipesOplog(PipesBackend backend) {
            this.backend = backend;
        }

        @Override public void handleInsert(String namespace, List<Document> documents) {}
        @Override public void handleUpdate(String namespace, Document selector, Document query, List<Object> ids) {}
        @Override public void handleDelete(String namespace, Document query, List<Object> ids) {}

        @Override
        public void handleDropCollection(String namespace) {
            int dot = namespace.indexOf('.');
            String db = namespace.substring(0, dot), coll = namespace.substring(dot + 1);
            if (isSystem(db, coll)) return;
            LOG.record("drop", db, coll, false, new Document("ns", ns(db, coll)));
        }

        @Override
        public Cursor createCursor(Document changeStream, String namespace, Aggregation aggregation) {
            int dot = namespace.indexOf('.');
            String db = namespace.substring(0, dot), coll = namespace.substring(dot + 1);
            boolean cluster = Boolean.TRUE.equals(changeStream.get("allChangesForCluster"));
            if (cluster) {
                db = null;
                coll = null;
            } else if (coll.equals("1")) {
                coll = null; // aggregate: 1 on a database
            }
            ChangeCursor c = new ChangeCursor(backend, backend.registry().generateCursorId(),
                db, coll, changeStream, aggregation);
            backend.registry().add(c);
            CURSORS.put(c.getId(), c);
            return c;
        }
    }

    static final Map<Long, ChangeCursor> CURSORS = new ConcurrentHashMap<>();

    /** A change stream on a collection (db, coll), a database (db) or everything (neither). */
    static final class ChangeCursor extends AbstractCursor {
        final PipesBackend backend;
        final String db, coll;
        final Document options;
        final Aggregation aggregation;
        final String fullDocument, beforeChange;
        final boolean expanded;
        long position;        // ts of the last event looked at
        long next;            // absolute index of the next event to look at
        Document lastToken;   // the postBatchResumeToken
        boolean pendingInvalidate, finished;
        long invalidateTs;

        ChangeCursor(PipesBackend backend, long id, String db, String coll, Document options, Aggregation aggregation) {
            super(id);
            this.backend = backend;
            this.db = db;
            this.coll = coll;
            this.options = options;
            this.aggregation = aggregation;
            this.fullDocument = (String) options.getOrDefault("fullDocument", "default");
            this.beforeChange = (String) options.getOrDefault("fullDocumentBeforeChange", "off");
            this.expanded = Boolean.TRUE.equals(options.get("showExpandedEvents"));
            Object resume = options.get("resumeAfter"), start = options.get("startAfter");
            Object at = options.get("startAtOperationTime");
            LOG.lock.lock();
            try {
                if (resume != null || start != null) {
                    Object tok = resume != null ? resume : start;
                    position = tokenTs(tok);
                    if (resume != null && tokenIsInvalidate(tok)) {
                        throw new MongoServerError(260, "InvalidResumeToken",
                            "cannot resume after an invalidate event; use startAfter");
                    }
                } else if (at instanceof BsonTimestamp t) {
                    position = t.getValue() - 1;
                } else {
                    position = Math.max(LOG.lastTs, (System.currentTimeMillis() / 1000) << 32);
                }
                if (LOG.lostBefore >= 0 && position < LOG.lostBefore) {
                    throw new MongoServerError(286, "ChangeStreamHistoryLost",
                        "Resume of change stream was not possible, as the resume point may no longer be in the oplog.");
                }
                next = LOG.indexAfter(position);
                lastToken = new Document("_data", token(position, 0));
            } finally {
                LOG.lock.unlock();
            }
        }

        boolean matches(Ev e) {
            if (e.expanded() && !expanded) return false;
            if (db == null) return !isSystem(e.db(), e.coll());
            if (!db.equals(e.db())) return false;
            if (coll == null) return e.coll() == null || !isSystem(e.db(), e.coll());
            // a collection stream sees its collection and the drop of its database
            return coll.equals(e.coll()) || (e.coll() == null && e.event().get("operationType").equals("dropDatabase"));
        }

        /** True when an event is waiting for this cursor. */
        boolean hasPending() {
            LOG.lock.lock();
            try {
                return pendingInvalidate || next < LOG.dropped + LOG.events.size();
            } finally {
                LOG.lock.unlock();
            }
        }

        @Override
        public boolean isEmpty() {
            return finished;
        }

        @Override
        public List<Document> takeDocuments(int numberToReturn) {
            List<Document> out = new ArrayList<>();
            List<Ev> candidates = new ArrayList<>();
            LOG.lock.lock();
            try {
                if (next < LOG.dropped) {
                    throw new MongoServerError(286, "ChangeStreamHistoryLost",
                        "Resume of change stream was not possible, as the resume point may no longer be in the oplog.");
                }
                int limit = numberToReturn > 0 ? numberToReturn : Integer.MAX_VALUE;
                for (long i = next; i < LOG.dropped + LOG.events.size() && candidates.size() < limit; i++) {
                    Ev e = LOG.events.get((int) (i - LOG.dropped));
                    if (matches(e)) candidates.add(e);
                }
            } finally {
                LOG.lock.unlock();
            }
            long bytes = 0;
            if (pendingInvalidate && !finished) {
                out.add(invalidateEvent());
                pendingInvalidate = false;
                finished = true;
                return out;
            }
            for (Ev e : candidates) {
                Document ev = e.event().cloneDeeply();
                String op = (String) ev.get("operationType");
                if (op.equals("update") && !fullDocument.equals("default")) {
                    Document current = lookup(e.db(), e.coll(), ((Document) ev.get("documentKey")).get("_id"));
                    if (current == null && fullDocument.equals("required")) {
                        throw new MongoServerError(280, "ChangeStreamFatalError",
                            "fullDocument: required, but the document was not found");
                    }
                    Document rebuilt = new Document();
                    for (Map.Entry<String, Object> f : ev.entrySet()) {
                        if (f.getKey().equals("ns")) rebuilt.put("fullDocument", current);
                        rebuilt.put(f.getKey(), f.getValue());
                    }
                    ev = rebuilt;
                }
                if (beforeChange.equals("off")) ev.remove("fullDocumentBeforeChange");
                List<Document> staged = aggregation.runStages(java.util.stream.Stream.of(ev));
                position = e.ts();
                next = indexOf(e) + 1;
                lastToken = new Document("_data", token(e.ts(), 0));
                for (Document d : staged) {
                    out.add(d);
                    bytes += bsonSize(d);
                }
                if (coll != null && (op.equals("drop") || op.equals("rename") || op.equals("dropDatabase"))) {
                    pendingInvalidate = true;
                    invalidateTs = e.ts();
                    break;
                }
                if (bytes > MAX_BATCH_BYTES) break;
            }
            if (candidates.isEmpty() || (!candidates.isEmpty() && out.isEmpty())) {
                LOG.lock.lock();
                try {
                    // nothing (left) for us up to the end of the log: the position moves on
                    if (next >= LOG.dropped + LOG.events.size() || candidates.isEmpty()) {
                        next = LOG.dropped + LOG.events.size();
                        position = Math.max(position, Math.max(LOG.lastTs, (System.currentTimeMillis() / 1000) << 32));
                        lastToken = new Document("_data", token(position, 0));
                    }
                } finally {
                    LOG.lock.unlock();
                }
            }
            return out;
        }

        long indexOf(Ev e) {
            LOG.lock.lock();
            try {
                return LOG.indexAfter(e.ts() - 1);
            } finally {
                LOG.lock.unlock();
            }
        }

        Document invalidateEvent() {
            return new Document("_id", new Document("_data", token(invalidateTs, 1)))
                .append("operationType", "invalidate")
                .append("clusterTime", new BsonTimestamp(invalidateTs))
                .append("wallTime", Instant.now());
        }

        Document lookup(String db, String coll, Object id) {
            MongoDatabase d = backend.databaseIfExists(db);
            if (d == null) return null;
            var c = d.resolveCollection(coll, false);
            if (c == null) return null;
            QueryResult r = c.handleQuery(new Document("_id", id), 0, 1);
            for (Document doc : r) return doc;
            return null;
        }
    }

    static final class PipesCollection extends MemoryCollection {
        PipesCollection(MongoDatabase db, String name, CollectionOptions options, CursorRegistry registry) {
            super(db, name, options, registry);
        }


        String dbName() {
            return getDatabaseName();
        }

        boolean recorded() {
            return !isSystem(getDatabaseName(), getCollectionName());
        }

        // Each hook runs under the collection's monitor, so the log's order is
        // the order in which the collection changed.
        @Override
        public synchronized void addDocument(Document document) {
            super.addDocument(document);
            if (recorded()) {
                Object id = document.get("_id");
                LOG.record("insert", getDatabaseName(), getCollectionName(), false,
                    new Document("fullDocument", document.cloneDeeply())
                        .append("ns", ns(getDatabaseName(), getCollectionName()))
                        .append("documentKey", new Document("_id", id)));
            }
        }

        @Override
        public synchronized void removeDocument(Document document) {
            super.removeDocument(document);
            if (recorded()) {
                LOG.record("delete", getDatabaseName(), getCollectionName(), false,
                    new Document("ns", ns(getDatabaseName(), getCollectionName()))
                        .append("documentKey", new Document("_id", document.get("_id"))));
            }
        }

        @Override
        public synchronized Document updateDocuments(Document selector, Document update,
                                                     de.bwaldvogel.mongo.backend.ArrayFilters arrayFilters,
                                                     boolean multi, boolean upsert, Oplog oplog) {
            boolean replacement = update.keySet().stream().noneMatch(k -> k.startsWith("$"));
            REPLACING.set(replacement);
            try {
                return super.updateDocuments(selector, update, arrayFilters, multi, upsert, oplog);
            } finally {
                REPLACING.set(false);
            }
        }

        @Override
        protected void handleUpdate(Integer position, Document oldDocument, Document newDocument) {
            super.handleUpdate(position, oldDocument, newDocument);
            if (!recorded()) return;
            Document key = new Document("_id", newDocument.get("_id"));
            Document nsDoc = ns(getDatabaseName(), getCollectionName());
            if (REPLACING.get()) {
                LOG.record("replace", getDatabaseName(), getCollectionName(), false,
                    new Document("fullDocument", newDocument.cloneDeeply()).append("ns", nsDoc).append("documentKey", key));
                return;
            }
            Document set = new Document();
            List<String> removed = new ArrayList<>();
            List<Document> cut = new ArrayList<>();
            diff("", oldDocument, newDocument, set, removed, cut);
            LOG.record("update", getDatabaseName(), getCollectionName(), false,
                new Document("ns", nsDoc).append("documentKey", key)
                    .append("updateDescription", new Document("updatedFields", set.cloneDeeply())
                        .append("removedFields", removed).append("truncatedArrays", cut)));
        }

        @Override
        protected Cursor createCursor(List<Document> remainingDocuments) {
            SizedCursor cursor = new SizedCursor(cursorRegistry.generateCursorId(), remainingDocuments);
            cursorRegistry.add(cursor);
            return cursor;
        }
    }

    /** The write commands and the field of their statements. */
    static final Map<String, String> WRITE_STATEMENTS =
        Map.of("insert", "documents", "update", "updates", "delete", "deletes");

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
            String key = WRITE_STATEMENTS.get(command.toLowerCase());
            if (key != null && !Boolean.FALSE.equals(query.get("ordered"))
                    && query.get(key) instanceof List<?> statements && statements.size() > 1)
                return orderedWrite(channel, command, query, resolver, oplog, key, statements);
            Document response = super.handleCommand(channel, command, query, resolver, oplog);
            if (command.equalsIgnoreCase("insert")) insertCount(query, response);
            if (command.equalsIgnoreCase("listCollections")) filterCollections(query, response);
            String name = getDatabaseName();
            Object target = query.get(command);
            if (isSystem(name, null)) return response;
            if (command.equalsIgnoreCase("create")) {
                LOG.record("create", name, target.toString(), true,
                    new Document("ns", ns(name, target.toString())).append("operationDescription", new Document()));
            } else if (command.equalsIgnoreCase("createIndexes")) {
                LOG.record("createIndexes", name, target.toString(), true,
                    new Document("ns", ns(name, target.toString()))
                        .append("operationDescription", new Document("indexes", query.get("indexes"))));
            } else if (command.equalsIgnoreCase("dropIndexes")) {
                Object index = query.get("index");
                List<Document> dropped = new ArrayList<>();
                if (index instanceof String n) dropped.add(new Document("name", n));
                else if (index instanceof List<?> l) for (Object n : l) dropped.add(new Document("name", n));
                else if (index instanceof Document k) dropped.add(new Document("key", k));
                LOG.record("dropIndexes", name, target.toString(), true,
                    new Document("ns", ns(name, target.toString()))
                        .append("operationDescription", new Document("indexes", dropped)));
            }
            withResumeToken(response);
            return response;
        }

        /**
         * An ordered insert, update or delete stops at its first refused
         * statement, as MongoDB's does (mongo-java-server goes on past it):
         * one statement at a time, the replies merged as MongoDB words one.
         */
        private Document orderedWrite(Channel channel, String command, Document query,
                                      DatabaseResolver resolver, Oplog oplog, String key, List<?> statements) {
            long n = 0, modified = 0;
            boolean update = key.equals("updates");
            List<Object> upserted = new ArrayList<>(), errors = new ArrayList<>();
            for (int i = 0; i < statements.size() && errors.isEmpty(); i++) {
                Document one = query.clone();
                one.put(key, new ArrayList<>(List.of(statements.get(i))));
                Document r;
                try {
                    r = handleCommand(channel, command, one, resolver, oplog);
                } catch (RuntimeException e) {
                    if (i == 0) throw e; // the command fails, nothing applied
                    MongoServerError m = e instanceof MongoServerError x ? x : null;
                    r = new Document("ok", 0.0).append("code", m != null ? m.getCode() : 8)
                        .append("codeName", m != null ? m.getCodeName() : "UnknownError")
                        .append("errmsg", m != null ? m.getMessageWithoutErrorCode() : String.valueOf(e.getMessage()));
                }
                if (!(r.get("ok") instanceof Number ok) || ok.doubleValue() != 1.0) {
                    if (i == 0) return r;
                    // statements before it were applied: a write error of its own, as MongoDB reports it
                    errors.add(new Document("index", i).append("code", r.get("code"))
                        .append("codeName", r.get("codeName")).append("errmsg", r.get("errmsg")));
                    break;
                }
                if (r.get("n") instanceof Number k) n += k.longValue();
                if (r.get("nModified") instanceof Number k) modified += k.longValue();
                for (String f : new String[] {"upserted", "writeErrors"}) {
                    if (!(r.get(f) instanceof List<?> l)) continue;
                    for (Object o : l) {
                        if (!(o instanceof Document d)) continue;
                        Document at = d.clone();
                        at.put("index", i);
                        (f.equals("upserted") ? upserted : errors).add(at);
                    }
                }
            }
            Document out = new Document("n", (int) n);
            if (update) out.put("nModified", (int) modified);
            if (!upserted.isEmpty()) out.put("upserted", upserted);
            if (!errors.isEmpty()) out.put("writeErrors", errors);
            out.put("ok", 1.0);
            return out;
        }

        @Override
        protected MemoryCollection openOrCreateCollection(String name, CollectionOptions options) {
            return new PipesCollection(this, name, options, cursorRegistry);
        }
    }

    /**
     * MongoDB's insert reply counts the documents inserted: under ordered
     * execution those before the first refused one, else all but the refused
     * ones.  mongo-java-server counts every document sent.
     */
    static void insertCount(Document query, Document response) {
        if (!(response.get("writeErrors") instanceof List<?> errors) || errors.isEmpty()) return;
        if (!(query.get("documents") instanceof List<?> docs)) return;
        boolean ordered = !Boolean.FALSE.equals(query.get("ordered"));
        int n = docs.size() - errors.size();
        if (ordered) {
            n = docs.size();
            for (Object e : errors)
                if (e instanceof Document d && d.get("index") instanceof Number i) n = Math.min(n, i.intValue());
        }
        response.put("n", n);
    }

    /**
     * listCollections applies its filter (MongoDB does; mongo-java-server
     * ignores it and lists every collection).
     */
    static void filterCollections(Document query, Document response) {
        if (!(query.get("filter") instanceof Document filter) || filter.isEmpty()) return;
        if (!(response.get("cursor") instanceof Document cursor)) return;
        if (!(cursor.get("firstBatch") instanceof List<?> batch)) return;
        var matcher = new de.bwaldvogel.mongo.backend.DefaultQueryMatcher();
        List<Object> kept = new ArrayList<>();
        for (Object o : batch)
            if (o instanceof Document d && matcher.matches(d, filter)) kept.add(d);
        cursor.put("firstBatch", kept);
    }

    /** Add postBatchResumeToken to the cursor of a change-stream reply. */
    static void withResumeToken(Document response) {
        if (!(response.get("cursor") instanceof Document cursor)) return;
        Object id = cursor.get("id");
        if (!(id instanceof Number n)) return;
        ChangeCursor c = CURSORS.get(n.longValue());
        if (c == null) return;
        cursor.put("postBatchResumeToken", c.lastToken);
        if (n.longValue() == 0 || c.finished) {
            CURSORS.remove(c.getId());
        }
    }

    static final class PipesBackend extends MemoryBackend {
        @Override
        public MemoryDatabase openOrCreateDatabase(String name) {
            return new PipesDatabase(name, getCursorRegistry());
        }

        @Override
        protected Oplog createOplog() {
            return new PipesOplog(this);
        }

        CursorRegistry registry() {
            return getCursorRegistry();
        }

        MongoDatabase databaseIfExists(String name) {
            return listDatabaseNames().contains(name) ? resolveDatabase(name) : null;
        }

        @Override
        public Document handleCommand(Channel channel, String db, String command, Document query) {
            if (command.equalsIgnoreCase("getMore")) {
                long id = ((Number) query.get(command)).longValue();
                ChangeCursor c = CURSORS.get(id);
                if (c != null) {
                    // awaitData: wait for an event up to maxTimeMS (1 s when not given)
                    long wait = query.get("maxTimeMS") instanceof Number m ? m.longValue() : 1000;
                    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.min(wait, 10000));
                    LOG.lock.lock();
                    try {
                        while (!c.pendingInvalidate && c.next >= LOG.dropped + LOG.events.size()) {
                            long left = deadline - System.nanoTime();
                            if (left <= 0) break;
                            LOG.added.awaitNanos(left);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        LOG.lock.unlock();
                    }
                    Document response = super.handleCommand(channel, db, command, query);
                    Document cursor = (Document) response.get("cursor");
                    if (cursor != null) {
                        cursor.put("postBatchResumeToken", c.lastToken);
                        if (c.finished) CURSORS.remove(id);
                    }
                    return response;
                }
            }
            if (db.equals("admin") && command.equalsIgnoreCase("aggregate")) {
                // a deployment-wide change stream: the admin handler knows no aggregate
                Document response = resolveDatabase("admin").handleCommand(channel, command, query,
                    this::resolveDatabase, oplog);
                withResumeToken(response);
                return response;
            }
            Document response = super.handleCommand(channel, db, command, query);
            if (command.equalsIgnoreCase("dropDatabase") && !isSystem(db, null)) {
                LOG.record("dropDatabase", db, null, false, new Document("ns", ns(db, null)));
            } else if (command.equalsIgnoreCase("renameCollection")) {
                String from = query.get(command).toString(), to = query.get("to").toString();
                int a = from.indexOf('.'), b = to.indexOf('.');
                String fdb = from.substring(0, a), fcoll = from.substring(a + 1);
                if (!isSystem(fdb, fcoll)) {
                    LOG.record("rename", fdb, fcoll, false, new Document("ns", ns(fdb, fcoll))
                        .append("to", ns(to.substring(0, b), to.substring(b + 1))));
                }
            }
            return response;
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
        // many worker threads: a getMore waiting for events (awaitData) holds its
        // event loop, which must not stall other connections
        server.bind(new InetSocketAddress("127.0.0.1", port), 1, 64);
        InetSocketAddress addr = server.getLocalAddress();
        Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
        Files.writeString(tmp, Integer.toString(addr.getPort()) + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        Thread.currentThread().join();
    }
}
