/*
 * exitcode.c: libcommon's error values and their mapping to exit statuses.
 */
#include <stdio.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include <unistd.h>

#include "diag.h"
#include "exitcode.h"

void
mp_error_set(bson_error_t *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->domain = MP_ERROR_DOMAIN;
	err->code = (uint32_t)code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	diag_make_utf8(err->message);
}

void
mp_error_wrap(bson_error_t *err, const char *fmt, ...)
{
	char prefix[256], old[sizeof err->message];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof old);
	snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
	diag_make_utf8(err->message);
}

static bool
server_code_transient(uint32_t code)
{
	switch (code) {
	case 6:     /* HostUnreachable */
	case 7:     /* HostNotFound */
	case 89:    /* NetworkTimeout */
	case 91:    /* ShutdownInProgress */
	case 133:   /* FailedToSatisfyReadPreference */
	case 189:   /* PrimarySteppedDown */
	case 234:   /* RetryChangeStream */
	case 262:   /* ExceededTimeLimit */
	case 9001:  /* SocketException */
	case 10107: /* NotWritablePrimary */
	case 11600: /* InterruptedAtShutdown */
	case 11602: /* InterruptedDueToReplStateChange */
	case 13435: /* NotPrimaryNoSecondaryOk */
	case 13436: /* NotPrimaryOrSecondary */
		return true;
	default:
		return false;
	}
}

/* A network error whose cause no retry mends: a certificate the client
 * does not trust, a TLS setup that cannot load, authentication.  libmongoc
 * reports them inside a server selection or stream error, by message only.
 * A handshake cut short (a server restarting, "unexpected eof") stays
 * transient. */
static bool
permanent_cause(const char *msg)
{
	static const char *const causes[] = {"certificate verify failed", "Failed initialize TLS",
		"Authentication failed", "AuthenticationFailed"};

	for (size_t i = 0; i < sizeof causes / sizeof causes[0]; i++)
		if (strstr(msg, causes[i]) != NULL)
			return true;
	return false;
}

bool
mp_error_transient(const bson_error_t *err)
{
	switch (err->domain) {
	case MONGOC_ERROR_STREAM:
	case MONGOC_ERROR_SERVER_SELECTION:
		return !permanent_cause(err->message);
	case MONGOC_ERROR_SERVER:
	case MONGOC_ERROR_QUERY:
	case MONGOC_ERROR_WRITE_CONCERN:
		return server_code_transient(err->code);
	case MP_ERROR_DOMAIN:
		return err->code == MP_EX_TEMPFAIL;
	default:
		return false;
	}
}

int
mp_error_exitcode(const bson_error_t *err)
{
	switch (err->domain) {
	case MP_ERROR_DOMAIN:
		return (int)err->code;
	case MONGOC_ERROR_STREAM:
	case MONGOC_ERROR_SERVER_SELECTION:
	case MONGOC_ERROR_SERVER:
	case MONGOC_ERROR_QUERY:
	case MONGOC_ERROR_WRITE_CONCERN:
	case MONGOC_ERROR_COMMAND:
	case MONGOC_ERROR_CURSOR:
	case MONGOC_ERROR_COLLECTION:
	case MONGOC_ERROR_CLIENT:
	case MONGOC_ERROR_PROTOCOL: /* a reply the client cannot take */
		return MP_EX_UNAVAILABLE;
	case MONGOC_ERROR_BSON:
		return MP_EX_DATAERR;
	default:
		/* libbson's own domains collide with libmongoc's (both start at
		 * 1), so libcommon re-raises libbson errors in MP_ERROR_DOMAIN. */
		return MP_EX_SOFTWARE;
	}
}

void
mp_backoff(int attempt)
{
	useconds_t us = (useconds_t)(100000u << (attempt < 6 ? attempt : 6));

	usleep(us > 5000000 ? 5000000 : us);
}
