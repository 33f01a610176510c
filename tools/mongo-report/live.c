/*
 * live.c: --live, a terminal monitor redrawn every --refresh seconds: per
 * collection the counts on both servers, the share copied, the updates and
 * deletes the stats files given report, and an ETA from the target's rate;
 * or, with --events, what the followed change-event stream carried.  Each
 * screen may also be kept as JSON (--snapshot).
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "diag.h"
#include "exitcode.h"
#include "mongo-report.h"
#include "nsmap.h"
#include "progress.h"
#include "sig.h"

/* One line of the screen. */
struct live_ns {
	char ns[256];
	int64_t src, dst, prev_dst;
	double changed_at, rate; /* when the target's count last moved; its rate then */
	int64_t events, prev_events, ins, upd, del;
	double ev_rate, lag, last_event;
	double pct;
};

struct live {
	const struct live_opts *o;
	const struct servers *sv;
	bool servers; /* both servers given: their counts are shown */
	FILE *screen;
	struct live_ns *rows;
	int n;
	double now, dt; /* this refresh, and the time since the last one */
	int64_t it;     /* which refresh */
};

static struct follower fo; /* its thread may outlive an interrupted run */

static struct live_ns *
live_row(struct live *lv, const char *ns)
{
	struct live_ns *l;

	for (int i = 0; i < lv->n; i++)
		if (strcmp(lv->rows[i].ns, ns) == 0)
			return &lv->rows[i];
	lv->rows = bson_realloc(lv->rows, sizeof(struct live_ns) * (size_t)(lv->n + 1));
	l = &lv->rows[lv->n++];
	memset(l, 0, sizeof *l);
	bson_strncpy(l->ns, ns, sizeof l->ns);
	l->src = l->dst = -1;
	l->lag = -1;
	return l;
}

/* A line for each collection --ns/--db name on the source. */
static void
live_list(struct live *lv)
{
	bson_error_t err;
	char **names = servers_list_namespaces(lv->sv->src, lv->o->ns, lv->o->db, &err);

	if (names == NULL)
		diag_warn("listing collections: %s", err.message);
	for (int i = 0; names && names[i]; i++)
		live_row(lv, names[i]);
	bson_strfreev(names);
}

/* The stats files, read again whole; a bad one is a warning. */
static void
live_read_stats(const struct live *lv, struct report *r)
{
	for (int i = 0; i < lv->o->nfiles; i++) {
		bson_error_t err;

		if (!report_read(r, lv->o->files[i], lv->o->cc, false, &err))
			diag_warn("%s", err.message);
	}
}

/* An event's namespace has a row: within --ns/--db, and selected by
 * --ns-include/--ns-exclude (as the stats rows are, report_select). */
static bool
live_wanted(const struct live_opts *o, const char *ns)
{
	const char *dot = strchr(ns, '.');
	char *db;
	bool keep;

	if (o->ns && strcmp(ns, o->ns) != 0)
		return false;
	if (o->db != NULL && !(strncmp(ns, o->db, strlen(o->db)) == 0 && ns[strlen(o->db)] == '.'))
		return false;
	if (dot == NULL || dot == ns)
		return true;
	db = bson_strndup(ns, (size_t)(dot - ns));
	keep = ns_selected(db, dot + 1);
	bson_free(db);
	return keep;
}

/* What the follower has counted so far; true once the stream has ended. */
static bool
live_take_events(struct live *lv)
{
	bool ended;

	pthread_mutex_lock(&fo.lock);
	ended = fo.done;
	for (int k = 0; k < fo.r.n; k++) {
		const struct ns_row *er = &fo.r.rows[k];
		struct live_ns *l;

		if (!live_wanted(lv->o, er->ns))
			continue;
		l = live_row(lv, er->ns);
		l->events = er->events;
		l->ins = er->ev[CHANGE_INSERT];
		l->upd = er->ev[CHANGE_UPDATE] + er->ev[CHANGE_REPLACE];
		l->del = er->ev[CHANGE_DELETE];
		l->lag = er->arrival_lag;
		l->last_event = (double)er->last_wall_ms / 1000.0;
	}
	pthread_mutex_unlock(&fo.lock);
	return ended;
}

static void
live_draw_head(const struct live *lv, bool finished)
{
	char when[32], head[160] = "";
	time_t wall = time(NULL);
	struct tm tm;

	localtime_r(&wall, &tm);
	strftime(when, sizeof when, "%H:%M:%S", &tm);
	if (isatty(fileno(lv->screen)))
		fputs("\033[H\033[2J", lv->screen);
	fprintf(lv->screen, "mongo-report --live  %s  (every %.0fs, Ctrl-C to stop)%s\n\n", when, lv->o->refresh,
		finished && lv->o->events ? "  the stream has ended" : "");
	if (lv->servers)
		bson_snprintf(head, sizeof head, "%12s %12s %7s ", "source", "target", "done");
	if (lv->o->events)
		bson_snprintf(head + strlen(head), sizeof head - strlen(head), "%9s %9s %9s %9s %8s %7s %9s", "events",
			"inserts", "updates", "deletes", "events/s", "lag", "last");
	else
		bson_snprintf(head + strlen(head), sizeof head - strlen(head), "%9s %9s %10s %9s", "updates", "deletes",
			"last", "ETA");
	fprintf(lv->screen, "%-32s %s\n", "namespace", head);
}

/* Both servers' counts, the target's rate since its count last moved, the
 * share copied. */
static void
live_counts(const struct live *lv, struct live_ns *l, char *line, size_t size)
{
	l->src = servers_count_of(lv->sv->src, l->ns);
	l->dst = servers_count_of(lv->sv->dst, l->ns);
	if (l->changed_at == 0 || l->dst != l->prev_dst) {
		if (l->changed_at > 0 && lv->now > l->changed_at)
			l->rate = (double)(l->dst - l->prev_dst) / (lv->now - l->changed_at);
		l->changed_at = lv->now;
		l->prev_dst = l->dst;
	}
	l->pct = l->src > 0 ? 100.0 * (double)l->dst / (double)l->src : (l->dst == 0 ? 100.0 : 0.0);
	bson_snprintf(line, size, "%12lld %12lld %6.1f%% ", (long long)l->src, (long long)l->dst, l->pct);
}

/* --events: the events, their rate over the last refresh, the lag, the age
 * of the last one. */
static void
live_event_cells(const struct live *lv, struct live_ns *l, char *line, size_t size)
{
	char last[16] = "-", lag[16] = "-";

	l->ev_rate = lv->dt > 0 && lv->it > 0 ? (double)(l->events - l->prev_events) / lv->dt : 0;
	l->prev_events = l->events;
	if (l->lag >= 60)
		progress_format_duration(l->lag, lag, sizeof lag);
	else if (l->lag >= 0)
		bson_snprintf(lag, sizeof lag, "%.1fs", l->lag);
	if (l->last_event > 0)
		progress_format_duration(wall_now() - l->last_event, last, sizeof last);
	bson_snprintf(line, size, "%9lld %9lld %9lld %9lld %8.0f %7s %9s", (long long)l->events, (long long)l->ins,
		(long long)l->upd, (long long)l->del, l->ev_rate, lag, last);
}

/* The stats files' updates and deletes, how long ago the target's count
 * moved, and the ETA at its rate. */
static void
live_stats_cells(const struct live *lv, struct live_ns *l, const struct report *r, char *line, size_t size)
{
	char last[16] = "-", eta[16] = "-";

	l->upd = l->del = 0;
	for (int k = 0; k < r->n; k++) {
		if (strcmp(r->rows[k].ns, l->ns) != 0)
			continue;
		for (int t = 0; t < r->rows[k].ntools; t++) {
			l->upd += r->rows[k].tools[t].updates + r->rows[k].tools[t].replaces;
			l->del += r->rows[k].tools[t].deletes;
		}
	}
	progress_format_duration(lv->now - l->changed_at, last, sizeof last);
	if (l->rate > 0 && l->dst < l->src)
		progress_format_duration((double)(l->src - l->dst) / l->rate, eta, sizeof eta);
	bson_snprintf(line, size, "%9lld %9lld %10s %9s", (long long)l->upd, (long long)l->del, last, eta);
}

/* The line's figures as element i of the snapshot's "namespaces". */
static void
live_snapshot_row(const struct live *lv, const struct live_ns *l, int i, bson_t *arr)
{
	char key[16];
	bson_t o;

	bson_snprintf(key, sizeof key, "%d", i);
	bson_append_document_begin(arr, key, -1, &o);
	BSON_APPEND_UTF8(&o, "ns", l->ns);
	if (lv->servers) {
		BSON_APPEND_INT64(&o, "source", l->src);
		BSON_APPEND_INT64(&o, "target", l->dst);
		BSON_APPEND_DOUBLE(&o, "percent", l->pct);
	}
	if (lv->o->events) {
		BSON_APPEND_INT64(&o, "events", l->events);
		BSON_APPEND_INT64(&o, "inserts", l->ins);
		BSON_APPEND_DOUBLE(&o, "events_per_s", l->ev_rate);
		if (l->lag >= 0)
			BSON_APPEND_DOUBLE(&o, "lag_s", l->lag);
	}
	BSON_APPEND_INT64(&o, "updates", l->upd);
	BSON_APPEND_INT64(&o, "deletes", l->del);
	bson_append_document_end(arr, &o);
}

static void
live_draw_rows(struct live *lv, const struct report *r, bson_t *snap)
{
	bson_t arr;

	bson_append_array_begin(snap, "namespaces", -1, &arr);
	for (int i = 0; i < lv->n; i++) {
		struct live_ns *l = &lv->rows[i];
		char line[200] = "";

		l->pct = 0;
		if (lv->servers)
			live_counts(lv, l, line, sizeof line);
		if (lv->o->events)
			live_event_cells(lv, l, line + strlen(line), sizeof line - strlen(line));
		else
			live_stats_cells(lv, l, r, line + strlen(line), sizeof line - strlen(line));
		fprintf(lv->screen, "%-32s %s\n", l->ns, line);
		live_snapshot_row(lv, l, i, &arr);
	}
	bson_append_array_end(snap, &arr);
}

static void
live_draw_failures(FILE *screen, const struct report *r)
{
	for (int i = 0; i < r->nfailures; i++) {
		const struct failure *x = &r->failures[i];

		fprintf(screen, "\nfailed: %s%s%s exited %d%s%s", x->tool, x->ns[0] ? " " : "", x->ns, x->status,
			x->error[0] ? ": " : "", x->error);
	}
	if (r->nfailures > 0)
		fputc('\n', screen);
}

/* One refresh: gather, draw, keep the snapshot.  *finished once stopped
 * or the stream has ended; *ended once it has. */
static void
live_frame(struct live *lv, bool *finished, bool *ended)
{
	struct report r;
	bson_t snap = BSON_INITIALIZER;
	bson_error_t err;

	memset(&r, 0, sizeof r);
	*finished = sig_stop_requested();
	if (lv->servers && (lv->it % 5 == 0 || lv->n == 0))
		live_list(lv);
	if (!lv->o->events)
		live_read_stats(lv, &r);
	if (lv->o->events) {
		*ended = live_take_events(lv);
		*finished = *finished || *ended;
	}
	live_draw_head(lv, *finished);
	live_draw_rows(lv, &r, &snap);
	live_draw_failures(lv->screen, &r);
	if (lv->o->events)
		BSON_APPEND_BOOL(&snap, "ended", *ended);
	fflush(lv->screen);
	if (lv->o->snapshot && !checkpoint_save(lv->o->snapshot, &snap, &err))
		diag_fail(&err, NULL);
	bson_destroy(&snap);
	report_clear(&r);
}

/* Sleep until the next refresh, a signal, or the end of the stream. */
static void
live_wait(const struct live *lv)
{
	for (double t = 0; t < lv->o->refresh && !sig_stop_requested(); t += 0.1) {
		if (lv->o->events && follower_done(&fo))
			break;
		usleep(100000);
	}
}

int
live_run(const struct live_opts *o, const struct servers *sv)
{
	struct live lv = {o, sv, sv->src && sv->dst, NULL, NULL, 0, 0, 0, 0};
	bool finished = false, ended = false;
	double prev_t = mp_now();
	int rc = MP_EX_SOFTWARE;

	/* With --events the monitor usually hangs off a tee whose stdout is the
	 * pipe into the next tool: the screen is stdout only when that is a
	 * terminal, else stderr. */
	lv.screen = o->events && !isatty(1) ? stderr : stdout;
	if (o->events && !follower_start(&fo, o->nfiles ? o->files[0] : "-", o->cc)) {
		diag_error("cannot start the reader thread");
		goto out;
	}
	for (lv.it = 0; !finished && (o->iterations == 0 || lv.it < o->iterations); lv.it++) {
		lv.now = mp_now();
		lv.dt = lv.now - prev_t;
		prev_t = lv.now;
		live_frame(&lv, &finished, &ended);
		if (!finished && (o->iterations == 0 || lv.it + 1 < o->iterations))
			live_wait(&lv);
	}
	rc = o->events ? follower_finish(&fo) : MP_EX_OK;
out:
	bson_free(lv.rows);
	return rc;
}
