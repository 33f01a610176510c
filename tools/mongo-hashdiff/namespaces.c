/*
 * namespaces.c: what one run compares: one namespace (--ns, named on the
 * target by --target-ns), which must exist on at least one server side, or
 * a file with a file; or every collection of a database (--db) on either
 * side.  A name that exists nowhere is a typo until --allow-missing says
 * otherwise (66); on one side only, its documents are real differences.
 */
#include <string.h>

#include "conn.h"
#include "diag.h"
#include "exitcode.h"
#include "mongo-hashdiff.h"
#include "sig.h"

static int
worse(int a, int b)
{
	return a > b ? a : b;
}

static void
job_init(struct job *j, const struct run *r, const char *sdb, const char *scoll, const char *tdb,
	const char *tcoll)
{
	memset(j, 0, sizeof *j);
	j->o = r->o;
	j->out = r->out;
	end_init(&j->src, &r->src, sdb, scoll);
	end_init(&j->dst, &r->dst, tdb, tcoll);
}

/* 0 when j's namespace exists on a server side (or a side is a file, or
 * --allow-missing, or --count-only); else the exit status, with err. */
static int
check_exists(const struct job *j, bson_error_t *err)
{
	const struct opts *o = j->o;
	const char *sfile = j->src.side->file, *tfile = j->dst.side->file;
	bool in_source = false, in_target = false, differ = strcmp(j->src.ns, j->dst.ns) != 0;

	if (o->allow_missing || (sfile && tfile))
		return MP_EX_OK;
	if (sfile == NULL && !end_exists(&j->src, &in_source, err))
		return mp_error_exitcode(err);
	if (tfile == NULL && !end_exists(&j->dst, &in_target, err))
		return mp_error_exitcode(err);
	if (in_source || in_target || sfile || tfile)
		return MP_EX_OK;
	mp_error_set(err, MP_EX_NOINPUT, "no such collection on either side: %s%s%s (--allow-missing compares "
		"it as empty)", j->src.ns, differ ? " / " : "", differ ? j->dst.ns : "");
	return MP_EX_NOINPUT;
}

int
namespaces_compare_one(struct run *r, const char *ns)
{
	char *sdb = NULL, *scoll = NULL, *tdb = NULL, *tcoll = NULL;
	struct job j;
	bson_error_t err;
	int rc;

	if (ns == NULL) {
		sdb = bson_strdup("file");
		scoll = bson_strdup("source");
		tdb = bson_strdup("file");
		tcoll = bson_strdup("target");
	} else if (!conn_split_ns(ns, &sdb, &scoll, &err) ||
		   !conn_split_ns(r->o->target_ns ? r->o->target_ns : ns, &tdb, &tcoll, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	job_init(&j, r, sdb, scoll, tdb, tcoll);
	if (check_exists(&j, &err) != MP_EX_OK) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	r->ran = true;
	rc = job_run(&j, r->stats);
out:
	bson_free(sdb);
	bson_free(scoll);
	bson_free(tdb);
	bson_free(tcoll);
	return rc;
}

static bool
listed(char **list, const char *name)
{
	for (int i = 0; list && list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* Compare each collection of colls but those of `done`, until a stop. */
static int
compare_collections(const struct run *r, const char *sdb, const char *tdb, char **colls, char **done)
{
	struct job j;
	int rc = MP_EX_OK;

	for (int i = 0; colls[i]; i++) {
		if (listed(done, colls[i]))
			continue; /* compared already */
		if (sig_stop_requested())
			return worse(rc, MP_EX_TEMPFAIL);
		job_init(&j, r, sdb, colls[i], tdb, colls[i]);
		rc = worse(rc, job_run(&j, r->stats));
	}
	return rc;
}

/* --metadata: the views and time series of either side, each compared by
 * its metadata alone, but those named by a collection on the other side
 * (that collection's job finds them there). */
static int
compare_views(const struct run *r, const char *sdb, const char *tdb, char **views, char **skip1, char **skip2)
{
	struct job j;
	int rc = MP_EX_OK;

	for (int i = 0; views[i]; i++) {
		if (listed(skip1, views[i]) || listed(skip2, views[i]))
			continue;
		if (sig_stop_requested())
			return worse(rc, MP_EX_TEMPFAIL);
		job_init(&j, r, sdb, views[i], tdb, views[i]);
		j.metadata_only = true;
		rc = worse(rc, job_run(&j, r->stats));
	}
	return rc;
}

/* The lists of one database: collections on both sides, and with
 * --metadata their views and time series too (else empty lists). */
static bool
list_db(const struct run *r, const char *db, const char *tdb, char **lists[4], bson_error_t *err)
{
	if (!side_list_collections(&r->src, db, &lists[0], err) || !side_list_collections(&r->dst, tdb, &lists[1], err))
		return false;
	if (!r->o->meta) {
		lists[2] = bson_malloc0(sizeof(char *));
		lists[3] = bson_malloc0(sizeof(char *));
		return true;
	}
	return metadata_list_views(&r->src, db, &lists[2], err) && metadata_list_views(&r->dst, tdb, &lists[3], err);
}

int
namespaces_compare_db(struct run *r, const char *db)
{
	const char *tdb = r->o->target_ns ? r->o->target_ns : db;
	char **l[4] = {NULL, NULL, NULL, NULL}; /* collections of source and target, then their views and time series */
	bson_error_t err;
	int rc;

	if (!list_db(r, db, tdb, l, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	r->ran = true;
	if (!l[0][0] && !l[1][0] && !l[2][0] && !l[3][0] && !r->o->allow_missing) {
		diag_error("no collections in database %s on either side (--allow-missing: equal)", db);
		rc = MP_EX_NOINPUT;
		goto out;
	}
	rc = compare_collections(r, db, tdb, l[0], NULL);
	rc = worse(rc, compare_collections(r, db, tdb, l[1], l[0]));
	rc = worse(rc, compare_views(r, db, tdb, l[2], l[0], l[1]));
	rc = worse(rc, compare_views(r, db, tdb, l[3], l[2], l[0]));
out:
	for (int i = 0; i < 4; i++)
		bson_strfreev(l[i]);
	return rc;
}
