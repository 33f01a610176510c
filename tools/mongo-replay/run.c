/*
 * run.c: mongo-replay's main loop.  Each event read takes a slot in the
 * window, then: an event at or before the checkpoint of a rerun is skipped;
 * a document event goes to its lane (or is printed, in a dry run, or joins
 * its --txn atomic group); a control event waits for everything before it
 * to land and is stopped at, skipped or applied as --on-ddl says.
 */
#include <string.h>

#include "checkpoint.h"
#include "diag.h"
#include "exitcode.h"
#include "mongo-replay.h"
#include "sig.h"

enum step {
	STEP_NEXT,   /* go on with the next event */
	STEP_EOF,    /* the input ended */
	STEP_SIGNAL, /* a signal asked to stop */
	STEP_STOP,   /* a control event --on-ddl stops at (exit 3), reported */
	STEP_FAIL,   /* run->err says why */
	STEP_FATAL,  /* a lane or the window failed: r->wp.err says why */
};

struct run {
	struct replay *r;
	struct source *src;
	mongoc_client_t *client;  /* the main thread's: control events, transactions */
	bson_t ck_start;          /* events up to this token were applied by an earlier run */
	bool has_ck_start;
	struct change_item **txn; /* an open --txn atomic group */
	int ntxn, txn_cap;
	uint64_t held;            /* a control event's slot, while it is handled */
	bson_error_t err;
};

/* ---- --txn atomic ---- */

/* Whether `it` belongs to the same source transaction as `first`. */
static bool
txn_member(const struct change_item *first, const struct item *it)
{
	const struct change_event *a = &first->ev, *b = &it->c.ev;

	return b->has_txn && b->txn_number == a->txn_number && b->lsid.len == a->lsid.len &&
	       memcmp(b->lsid.data, a->lsid.data, b->lsid.len) == 0;
}

static void
txn_add(struct run *run, struct item *it)
{
	if (run->ntxn == run->txn_cap) {
		run->txn_cap = run->txn_cap ? run->txn_cap * 2 : 64;
		run->txn = bson_realloc(run->txn, sizeof(struct change_item *) * (size_t)run->txn_cap);
	}
	run->txn[run->ntxn++] = &it->c;
}

/* Apply the open group as one transaction once everything before it landed. */
static enum step
flush_txn(struct run *run)
{
	struct replay *r = run->r;

	if (!window_drain_to(r, item_of(run->txn[0])->seq))
		return STEP_FATAL;
	if (!change_apply_txn(&r->apply, run->client, run->txn, run->ntxn, &run->err))
		return STEP_FAIL;
	pthread_mutex_lock(&r->wp.lock);
	r->n.txns++;
	for (int i = 0; i < run->ntxn; i++) {
		window_done_locked(r, item_of(run->txn[i])->seq);
		item_destroy(item_of(run->txn[i]));
	}
	pthread_mutex_unlock(&r->wp.lock);
	run->ntxn = 0;
	return STEP_NEXT;
}

/* ---- document events ---- */

/* --dry-run: print the writes; an event without any is set aside or fatal. */
static enum step
dry_document(struct run *run, struct item *it)
{
	struct replay *r = run->r;
	bool ok = change_dry_writes(r->dry, &it->c, r->o->prefer_full, &run->err);
	enum step s = STEP_NEXT;

	pthread_mutex_lock(&r->wp.lock);
	if (ok)
		counts_op(&r->n, it->c.ev.op);
	window_done_locked(r, it->seq);
	pthread_mutex_unlock(&r->wp.lock);
	if (!ok && run->err.code == MP_EX_DATAERR && r->reject) {
		struct reject_why why = {run->err.message, 0, it->c.record, 0, 0, true};

		if (!reject_write(r->reject, &why, "event", it->c.event, NULL, NULL, 0, &run->err))
			s = STEP_FAIL;
	} else if (!ok) {
		source_wrap_error(run->src, &run->err);
		s = STEP_FAIL;
	}
	item_destroy(it);
	return s;
}

static enum step
handle_document(struct run *run, struct item *it)
{
	struct replay *r = run->r;

	if (r->o->txn == TXN_ATOMIC && it->c.ev.has_txn) {
		txn_add(run, it);
		return STEP_NEXT;
	}
	if (r->o->dry_run)
		return dry_document(run, it);
	if (!lanes_dispatch(r, it)) {
		item_destroy(it);
		return STEP_FATAL;
	}
	return STEP_NEXT;
}

/* ---- control events ---- */

static enum step
control_stop(const struct item *it)
{
	char *tok = change_token_text(&it->c.ev);
	const struct change_item *c = &it->c;

	if (c->ev.op == CHANGE_INVALIDATE)
		diag_error("event %llu (token %s): invalidate: the change stream ended; start a new one (startAfter "
			"this token, or a new start token and a full copy)", (unsigned long long)c->record, tok);
	else
		diag_error("event %llu (token %s): %s of %s%s%s: stopping (--on-ddl stop); everything before it is "
			"applied; decide, then rerun with --on-ddl skip or apply", (unsigned long long)c->record, tok,
			c->ev.op_name, c->db, c->coll ? "." : "", c->coll ? c->coll : "");
	bson_free(tok);
	return STEP_STOP;
}

static enum step
control_apply(struct run *run, const struct item *it)
{
	struct replay *r = run->r;
	const struct change_item *c = &it->c;

	switch (change_apply_ddl(&r->apply, run->client, c, &run->err)) {
	case CHANGE_DDL_FAILED:
		return STEP_FAIL;
	case CHANGE_DDL_ALREADY:
		diag_info("event %llu: %s: %s (already applied)", (unsigned long long)c->record, c->ev.op_name,
			run->err.message);
		break;
	case CHANGE_DDL_UNSUPPORTED:
		diag_warn("event %llu: %s on %s: cannot be applied by mongo-replay; skipped",
			(unsigned long long)c->record, c->ev.op_name, c->db);
		break;
	default:
		break;
	}
	pthread_mutex_lock(&r->wp.lock);
	r->n.ddl++;
	pthread_mutex_unlock(&r->wp.lock);
	return STEP_NEXT;
}

/* Everything before a control event lands first; then --on-ddl decides. */
static enum step
handle_control(struct run *run, struct item *it)
{
	struct replay *r = run->r;
	enum step s = STEP_FATAL;

	run->held = it->seq;
	if (window_drain_to(r, it->seq)) {
		switch (change_ddl_decide((enum change_ddl_policy)r->o->on_ddl, it->c.ev.op)) {
		case CHANGE_DDL_STOP:
			s = control_stop(it);
			break;
		case CHANGE_DDL_APPLY:
			s = control_apply(run, it);
			break;
		default:
			diag_info("event %llu: %s skipped (--on-ddl skip)", (unsigned long long)it->c.record,
				it->c.ev.op_name);
			r->n.skipped++;
			s = STEP_NEXT;
			break;
		}
	}
	if (s == STEP_NEXT) {
		window_done(r, it->seq);
		run->held = UINT64_MAX;
	}
	item_destroy(it);
	return s;
}

/* ---- the loop ---- */

static enum step
handle_item(struct run *run, struct item *it)
{
	struct replay *r = run->r;
	bson_t tok;

	if (run->has_ck_start && it->c.ev.has_token &&
	    change_token_cmp(change_doc_bson(&it->c.ev.token, &tok), &run->ck_start) <= 0) {
		r->n.skipped_ck++;
		item_destroy(it);
		return STEP_NEXT;
	}
	if (!window_take(r, &it->c.ev, it->c.event->len, &it->seq)) {
		item_destroy(it);
		return STEP_FATAL;
	}
	if (it->unmapped) {
		r->n.skipped++;
		window_done(r, it->seq);
		item_destroy(it);
		return STEP_NEXT;
	}
	if (change_op_is_document(it->c.ev.op))
		return handle_document(run, it);
	return handle_control(run, it);
}

/* Read one event and handle it; an open transaction group ends at the
 * first event outside it, or at the end of the input. */
static enum step
run_step(struct run *run)
{
	struct item *it = NULL;
	int got = source_item(run->r, run->src, &it, &run->err);
	enum step s = STEP_NEXT;

	if (got < 0)
		return sig_stop_requested() ? STEP_SIGNAL : STEP_FAIL;
	if (run->ntxn > 0 && (got == 0 || (it != NULL && !txn_member(run->txn[0], it))))
		s = flush_txn(run);
	if (s != STEP_NEXT) {
		item_destroy(it);
		return s;
	}
	if (got == 0)
		return STEP_EOF;
	return it ? handle_item(run, it) : STEP_NEXT;
}

static bool
run_open(struct run *run, struct replay *r, struct source *src)
{
	memset(run, 0, sizeof *run);
	run->r = r;
	run->src = src;
	run->held = UINT64_MAX;
	bson_init(&run->ck_start);
	if (r->o->checkpoint && src->reader) {
		bson_destroy(&run->ck_start);
		if (!checkpoint_load(r->o->checkpoint, &run->ck_start, &run->has_ck_start, &run->err))
			return false;
	}
	if (!r->o->dry_run)
		run->client = mongoc_client_pool_pop(r->pool);
	return true;
}

/*
 * The exit status of the loop's last step.  At the end of the input or on a
 * signal, everything handed out lands first (but an open transaction group,
 * left unapplied).  On a failure, what was handed to the lanes before it
 * still lands and is checkpointed; a held transaction or control event
 * does not.
 */
static int
run_end(struct run *run, enum step s)
{
	struct replay *r = run->r;
	uint64_t upto = run->ntxn > 0 ? item_of(run->txn[0])->seq : run->held;
	int rc = MP_EX_STREAM_END;

	if (s == STEP_EOF && !source_finish(run->src, &run->err))
		s = STEP_FAIL;
	if ((s == STEP_EOF || s == STEP_SIGNAL) && !window_drain_to(r, upto))
		s = STEP_FATAL;
	if (s == STEP_EOF || s == STEP_SIGNAL)
		rc = MP_EX_OK;
	if (s == STEP_FATAL) {
		pthread_mutex_lock(&r->wp.lock);
		run->err = r->wp.err;
		pthread_mutex_unlock(&r->wp.lock);
	}
	if (s == STEP_FATAL || s == STEP_FAIL) {
		window_drain_to(r, upto);
		rc = diag_exit(&run->err, NULL);
	}
	return rc;
}

static void
run_close(struct run *run)
{
	for (int i = 0; i < run->ntxn; i++)
		item_destroy(item_of(run->txn[i]));
	bson_free(run->txn);
	bson_destroy(&run->ck_start);
	if (run->client)
		mongoc_client_pool_push(run->r->pool, run->client);
}

/* Replay every event of src; the exit status (the error printed). */
int
replay_run(struct replay *r, struct source *src)
{
	struct run run;
	enum step s = run_open(&run, r, src) ? STEP_NEXT : STEP_FAIL;
	int rc;

	while (s == STEP_NEXT) {
		counts_progress(r);
		s = sig_stop_requested() ? STEP_SIGNAL : run_step(&run);
	}
	rc = run_end(&run, s);
	run_close(&run);
	return rc;
}
