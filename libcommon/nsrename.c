/*
 * nsrename.c: --ns-from/--ns-to (mongorestore's --nsFrom/--nsTo), renaming
 * namespaces with mongo-tools' rules (see nsmap.h).
 *
 * A pattern is literal text and variables.  Without a `$` in FROM, each
 * unescaped `*` of FROM and TO is a variable, the first `*` of TO taking the
 * first of FROM ("db.*" to "db2.*"), and `\` escapes; with one, `$name$`
 * names a variable, every name of TO must appear in FROM, and the text is
 * literal.  A variable matches any run of characters, dots included, the
 * shortest that lets the rest match.  The pair given last that matches
 * renames; a namespace no pair matches keeps its name.
 */
#include <stdarg.h>
#include <string.h>

#include "exitcode.h"
#include "nsmap.h"

#define MAX_RENAMES 64
#define MAX_TOKENS 64

/* A literal run of `len` bytes, or a variable (len < 0) numbered `var`. */
struct token {
	const char *text;
	int len, var;
};

struct pattern {
	char *buf; /* the pattern, unescaped: tokens point into it */
	struct token t[MAX_TOKENS];
	int n;
};

static struct {
	char *from, *to;
	struct pattern pf, pt;
	bool compiled;
} pairs[MAX_RENAMES];
static int nfrom, nto;

bool
ns_rename_add(bool to, const char *arg, bson_error_t *err)
{
	int *n = to ? &nto : &nfrom;

	if (arg == NULL || *arg == '\0') {
		mp_error_set(err, MP_EX_USAGE, "a namespace pattern cannot be empty");
		return false;
	}
	if (*n == MAX_RENAMES) {
		mp_error_set(err, MP_EX_USAGE, "more than %d renames", MAX_RENAMES);
		return false;
	}
	if (to)
		pairs[(*n)++].to = bson_strdup(arg);
	else
		pairs[(*n)++].from = bson_strdup(arg);
	return true;
}

bool
ns_rename_given(void)
{
	return nfrom > 0;
}

static bool
refuse(char *why, size_t whylen, const char *fmt, ...) BSON_GNUC_PRINTF(3, 4);

/* Say why a pattern is refused; false. */
static bool
refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return false;
}

static bool
add_token(struct pattern *p, const char *text, int len, int var)
{
	if (p->n == MAX_TOKENS)
		return false;
	p->t[p->n++] = (struct token){text, len, var};
	return true;
}

/* `*` form: unescape into buf; each `*` a variable numbered in order. */
static bool
parse_stars(struct pattern *p, const char *s, char *why, size_t whylen)
{
	char *out = p->buf, *lit = out;
	int var = 0;

	for (; *s; s++) {
		if (*s == '*') {
			if ((out > lit && !add_token(p, lit, (int)(out - lit), 0)) || !add_token(p, NULL, -1, ++var))
				return refuse(why, whylen, "too many parts");
			lit = ++out; /* keep the bytes apart: a literal never spans a variable */
			continue;
		}
		if (*s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '\\')
			continue;
		*out++ = *s;
	}
	return out == lit || add_token(p, lit, (int)(out - lit), 0) || refuse(why, whylen, "too many parts");
}

/* `$name$` form: variables are numbered by their place in `names` (FROM's
 * names, filled when parsing FROM; looked up when parsing TO). */
static bool
parse_dollars(struct pattern *p, const char *s, const char **names, int *nnames, bool is_from, char *why,
	size_t whylen)
{
	while (*s) {
		const char *open = strchr(s, '$'), *close;
		int var = 0;

		if (open == NULL)
			return add_token(p, s, (int)strlen(s), 0) || refuse(why, whylen, "too many parts");
		if (open > s && !add_token(p, s, (int)(open - s), 0))
			return refuse(why, whylen, "too many parts");
		if ((close = strchr(open + 1, '$')) == NULL)
			return refuse(why, whylen, "an odd number of '$'");
		for (int i = 0; i < *nnames; i++)
			if ((size_t)(close - open - 1) == strlen(names[i]) && !strncmp(names[i], open + 1, strlen(names[i])))
				var = i + 1;
		if (is_from && var)
			return refuse(why, whylen, "variable '%.*s' used twice", (int)(close - open - 1), open + 1);
		if (!is_from && !var)
			return refuse(why, whylen, "unknown variable '%.*s'", (int)(close - open - 1), open + 1);
		if (is_from) {
			if (*nnames == MAX_TOKENS)
				return refuse(why, whylen, "too many parts");
			names[*nnames] = bson_strndup(open + 1, (size_t)(close - open - 1));
			var = ++*nnames;
		}
		if (!add_token(p, NULL, -1, var))
			return refuse(why, whylen, "too many parts");
		s = close + 1;
	}
	return true;
}

static int
count_stars(const struct pattern *p)
{
	int n = 0;

	for (int i = 0; i < p->n; i++)
		n += p->t[i].len < 0;
	return n;
}

/* Compile pair i; false with why. */
static bool
compile(int i, char *why, size_t whylen)
{
	const char *from = pairs[i].from, *to = pairs[i].to, *names[MAX_TOKENS];
	struct pattern *pf = &pairs[i].pf, *pt = &pairs[i].pt;
	int nnames = 0;
	bool ok;

	pf->buf = bson_strdup(from);
	pt->buf = bson_strdup(to);
	if (strchr(from, '$') == NULL) {
		ok = parse_stars(pf, from, why, whylen) && parse_stars(pt, to, why, whylen);
		if (ok && count_stars(pf) != count_stars(pt))
			ok = refuse(why, whylen, "a different number of '*' in each");
	} else {
		ok = parse_dollars(pf, from, names, &nnames, true, why, whylen) &&
		     parse_dollars(pt, to, names, &nnames, false, why, whylen);
	}
	for (int k = 0; k < nnames; k++)
		bson_free((char *)names[k]);
	return ok;
}

bool
ns_rename_check(bson_error_t *err)
{
	char why[160];

	if (nfrom != nto) {
		mp_error_set(err, MP_EX_USAGE, "--ns-from and --ns-to go in pairs (%d --ns-from, %d --ns-to)", nfrom,
			nto);
		return false;
	}
	for (int i = 0; i < nfrom; i++) {
		if (pairs[i].compiled)
			continue;
		pairs[i].compiled = true;
		if (!compile(i, why, sizeof why)) {
			mp_error_set(err, MP_EX_USAGE, "cannot rename '%s' to '%s': %s", pairs[i].from, pairs[i].to, why);
			return false;
		}
	}
	return true;
}

/* Matching one pattern against one name: a variable takes the shortest
 * run that lets the rest match.  Whether tokens k.. match from byte `off`
 * does not depend on what earlier variables took, so a failure is
 * remembered by (k, off) and never tried again: polynomial, not
 * exponential in the number of variables. */
struct matcher {
	const struct pattern *p;
	const char *s;
	size_t len;
	uint8_t *failed; /* a bit per (k, off) */
	const char **cap;
	int *caplen;
};

static bool
match(struct matcher *m, int k, size_t off)
{
	const struct token *t = &m->p->t[k];
	size_t bit = (size_t)k * (m->len + 1) + off;
	bool ok = false;

	if (k == m->p->n)
		return off == m->len;
	if (m->failed[bit / 8] & (1u << (bit % 8)))
		return false;
	if (t->len >= 0) {
		ok = (size_t)t->len <= m->len - off && memcmp(m->s + off, t->text, (size_t)t->len) == 0 &&
		     match(m, k + 1, off + (size_t)t->len);
	} else {
		for (size_t n = 0; !ok && off + n <= m->len; n++) {
			m->cap[t->var] = m->s + off;
			m->caplen[t->var] = (int)n;
			ok = match(m, k + 1, off + n);
		}
	}
	if (!ok)
		m->failed[bit / 8] |= (uint8_t)(1u << (bit % 8));
	return ok;
}

static bool
match_name(const struct pattern *p, const char *s, const char **cap, int *caplen)
{
	size_t len = strlen(s);
	struct matcher m = {p, s, len, bson_malloc0(((size_t)p->n + 1) * (len + 1) / 8 + 1), cap, caplen};
	bool ok = match(&m, 0, 0);

	bson_free(m.failed);
	return ok;
}

char *
ns_rename(const char *ns)
{
	const char *cap[MAX_TOKENS + 1];
	int caplen[MAX_TOKENS + 1];

	for (int i = nfrom - 1; i >= 0; i--) {
		const struct pattern *pt = &pairs[i].pt;
		char *out;
		size_t len = 0;

		if (!match_name(&pairs[i].pf, ns, cap, caplen))
			continue;
		for (int k = 0; k < pt->n; k++)
			len += (size_t)(pt->t[k].len >= 0 ? pt->t[k].len : caplen[pt->t[k].var]);
		out = bson_malloc(len + 1);
		len = 0;
		for (int k = 0; k < pt->n; k++) {
			const struct token *t = &pt->t[k];
			int n = t->len >= 0 ? t->len : caplen[t->var];

			memcpy(out + len, t->len >= 0 ? t->text : cap[t->var], (size_t)n);
			len += (size_t)n;
		}
		out[len] = '\0';
		return out;
	}
	return bson_strdup(ns);
}
