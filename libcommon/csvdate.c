/*
 * csvdate.c: dates of typed CSV/TSV columns, as mongoimport reads them:
 * Go's time.Parse with a reference-time layout ("2006-01-02 15:04:05"),
 * and the Microsoft and Oracle formats it rewrites into such layouts
 * (mongoimport/dateconv).  Zones: Z, numeric offsets, and abbreviations
 * (read as UTC, as Go reads one it does not know).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "civil.h"
#include "csv.h"

enum std {
	STD_NONE, STD_LONG_MONTH, STD_MONTH, STD_NUM_MONTH, STD_ZERO_MONTH, STD_LONG_WEEKDAY, STD_WEEKDAY,
	STD_DAY, STD_UNDER_DAY, STD_ZERO_DAY, STD_HOUR, STD_HOUR12, STD_ZERO_HOUR12, STD_MINUTE,
	STD_ZERO_MINUTE, STD_SECOND, STD_ZERO_SECOND, STD_LONG_YEAR, STD_YEAR, STD_PM_UPPER, STD_PM_LOWER,
	STD_TZ, STD_ISO_Z, STD_NUM_TZ, STD_FRAC0, STD_FRAC9,
};

/* The layout's elements, longest first where they share a start. */
static const struct {
	const char *text;
	enum std std;
	int tz; /* zone forms: 1 "Z" accepted, and the digits' shape */
} chunks[] = {
	{"January", STD_LONG_MONTH, 0}, {"Jan", STD_MONTH, 0}, {"Monday", STD_LONG_WEEKDAY, 0},
	{"Mon", STD_WEEKDAY, 0}, {"MST", STD_TZ, 0}, {"01", STD_ZERO_MONTH, 0}, {"02", STD_ZERO_DAY, 0},
	{"03", STD_ZERO_HOUR12, 0}, {"04", STD_ZERO_MINUTE, 0}, {"05", STD_ZERO_SECOND, 0}, {"06", STD_YEAR, 0},
	{"15", STD_HOUR, 0}, {"1", STD_NUM_MONTH, 0}, {"2006", STD_LONG_YEAR, 0}, {"2", STD_DAY, 0},
	{"_2", STD_UNDER_DAY, 0}, {"3", STD_HOUR12, 0}, {"4", STD_MINUTE, 0}, {"5", STD_SECOND, 0},
	{"PM", STD_PM_UPPER, 0}, {"pm", STD_PM_LOWER, 0},
	{"Z070000", STD_ISO_Z, 6}, {"Z07:00:00", STD_ISO_Z, 9}, {"Z0700", STD_ISO_Z, 4}, {"Z07:00", STD_ISO_Z, 5},
	{"Z07", STD_ISO_Z, 2}, {"-070000", STD_NUM_TZ, 6}, {"-07:00:00", STD_NUM_TZ, 9},
	{"-0700", STD_NUM_TZ, 4}, {"-07:00", STD_NUM_TZ, 5}, {"-07", STD_NUM_TZ, 2},
};

static const char *const months[] = {"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December"};
static const char *const days[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

/* The element at layout[0], its length in *len and its zone shape. */
static enum std
next_std(const char *layout, size_t *len, int *tz)
{
	if ((layout[0] == '.' || layout[0] == ',') && (layout[1] == '0' || layout[1] == '9')) {
		size_t j = 1;

		while (layout[j] == layout[1])
			j++;
		if (!isdigit((unsigned char)layout[j])) {
			*len = j;
			return layout[1] == '0' ? STD_FRAC0 : STD_FRAC9;
		}
	}
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		size_t n = strlen(chunks[i].text);

		if (strncmp(layout, chunks[i].text, n) == 0) {
			*len = n;
			*tz = chunks[i].tz;
			return chunks[i].std;
		}
	}
	*len = 1;
	return STD_NONE;
}

struct when {
	int year, month, day, hour, min, sec, nsec, offset; /* offset: seconds east of UTC */
	bool pm, am;
};

/* 1 or 2 digits (exactly 2 when fixed) at *v. */
static bool
getnum(const char **v, bool fixed, int *out)
{
	const char *s = *v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	if (!isdigit((unsigned char)s[1])) {
		if (fixed)
			return false;
		*out = s[0] - '0';
		*v = s + 1;
		return true;
	}
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	*v = s + 2;
	return true;
}

/* A name from list (case-insensitive, whole or its first three letters). */
static bool
lookup_name(const char **v, const char *const *list, int n, bool abbrev, int *out)
{
	for (int i = 0; i < n; i++) {
		size_t len = abbrev ? 3 : strlen(list[i]);

		if (strncasecmp(*v, list[i], len) == 0) {
			*out = i;
			*v += len;
			return true;
		}
	}
	return false;
}

/* Fractional seconds: '.' or ',' then digits (exactly want of them, or any
 * number when want is 0). */
static bool
frac(const char **v, size_t want, struct when *w)
{
	const char *s = *v + 1;
	size_t n = 0;
	int scale = 100000000;

	while (isdigit((unsigned char)s[n]) && (want == 0 || n < want))
		n++;
	if (((*v)[0] != '.' && (*v)[0] != ',') || n == 0 || (want && n != want))
		return false;
	for (size_t i = 0; i < n; i++, scale /= 10)
		w->nsec += (s[i] - '0') * scale;
	*v = s + n;
	return true;
}

/* A numeric zone: sign, hours, minutes and seconds as the shape says. */
static bool
numeric_zone(const char **v, int shape, struct when *w)
{
	const char *s = *v;
	int hh = 0, mm = 0, ss = 0;
	size_t need = shape == 2 ? 3 : shape == 4 ? 5 : shape == 5 ? 6 : shape == 6 ? 7 : 9;

	if (strlen(s) < need || (s[0] != '+' && s[0] != '-'))
		return false;
	for (size_t i = 1; i < need; i++)
		if (!isdigit((unsigned char)s[i]) && !((shape == 5 || shape == 9) && (i == 3 || i == 6) && s[i] == ':'))
			return false;
	hh = (s[1] - '0') * 10 + (s[2] - '0');
	if (shape != 2) {
		size_t m = shape == 4 || shape == 6 ? 3 : 4;

		mm = (s[m] - '0') * 10 + (s[m + 1] - '0');
		if (shape == 6 || shape == 9)
			ss = (s[m + 2 + (shape == 9)] - '0') * 10 + (s[m + 3 + (shape == 9)] - '0');
	}
	w->offset = (s[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60 + ss);
	*v = s + need;
	return true;
}

/* A zone abbreviation (MST): three to five capitals, read as UTC. */
static bool
zone_name(const char **v)
{
	size_t n = 0;

	while (n < 5 && isupper((unsigned char)(*v)[n]))
		n++;
	if (n < 3)
		return false;
	*v += n;
	return true;
}

/* Seconds, and a fraction after them that the layout (rest) does not
 * name: Go takes it. */
static bool
seconds(bool fixed, const char **v, const char *rest, struct when *w)
{
	size_t len;
	int z;
	enum std after = next_std(rest, &len, &z);

	if (!getnum(v, fixed, &w->sec) || w->sec >= 60)
		return false;
	if (((*v)[0] == '.' || (*v)[0] == ',') && isdigit((unsigned char)(*v)[1]) && after != STD_FRAC0 &&
	    after != STD_FRAC9)
		return frac(v, 0, w);
	return true;
}

/* PM or AM (pm or am when the layout says so in lower case). */
static bool
am_pm(bool upper, const char **v, struct when *w)
{
	w->pm = strncmp(*v, upper ? "PM" : "pm", 2) == 0;
	w->am = strncmp(*v, upper ? "AM" : "am", 2) == 0;
	*v += w->pm || w->am ? 2 : 0;
	return w->pm || w->am;
}

/* One element of the layout read from *v. */
static bool
parse_std(enum std std, int tz, const char **v, const char *rest, struct when *w)
{
	int k, x;

	switch (std) {
	case STD_LONG_YEAR:
		for (k = 0; k < 4; k++)
			if (!isdigit((unsigned char)(*v)[k]))
				return false;
		w->year = atoi((char[5]){(*v)[0], (*v)[1], (*v)[2], (*v)[3], 0});
		*v += 4;
		return true;
	case STD_YEAR:
		if (!getnum(v, true, &x))
			return false;
		w->year = x >= 69 ? 1900 + x : 2000 + x;
		return true;
	case STD_MONTH:
	case STD_LONG_MONTH:
		if (!lookup_name(v, months, 12, std == STD_MONTH, &x))
			return false;
		w->month = x + 1;
		return true;
	case STD_WEEKDAY:
	case STD_LONG_WEEKDAY:
		return lookup_name(v, days, 7, std == STD_WEEKDAY, &x);
	case STD_NUM_MONTH:
	case STD_ZERO_MONTH:
		return getnum(v, std == STD_ZERO_MONTH, &w->month) && w->month >= 1 && w->month <= 12;
	case STD_UNDER_DAY:
		if (**v == ' ')
			(*v)++;
		/* fall through */
	case STD_DAY:
	case STD_ZERO_DAY:
		return getnum(v, std == STD_ZERO_DAY, &w->day);
	case STD_HOUR:
		return getnum(v, false, &w->hour) && w->hour < 24;
	case STD_HOUR12:
	case STD_ZERO_HOUR12:
		return getnum(v, std == STD_ZERO_HOUR12, &w->hour) && w->hour <= 12;
	case STD_MINUTE:
	case STD_ZERO_MINUTE:
		return getnum(v, std == STD_ZERO_MINUTE, &w->min) && w->min < 60;
	case STD_SECOND:
	case STD_ZERO_SECOND:
		return seconds(std == STD_ZERO_SECOND, v, rest, w);
	case STD_PM_UPPER:
	case STD_PM_LOWER:
		return am_pm(std == STD_PM_UPPER, v, w);
	case STD_ISO_Z:
		if (**v == 'Z') {
			(*v)++;
			return true;
		}
		return numeric_zone(v, tz, w);
	case STD_NUM_TZ:
		return numeric_zone(v, tz, w);
	case STD_TZ:
		return zone_name(v);
	default:
		return false;
	}
}

static int
days_in(int month, int year)
{
	static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);

	return month == 2 && leap ? 29 : n[month - 1];
}

bool
csv_parse_go_date(const char *layout, const char *s, int64_t *ms)
{
	struct when w = {.month = 1, .day = 1};
	const char *v = s;

	while (*layout) {
		size_t len;
		int tz = 0;
		enum std std = next_std(layout, &len, &tz);

		if (std == STD_NONE) {
			if (*v != *layout)
				return false;
			v++;
			layout++;
			continue;
		}
		layout += len;
		if (std == STD_FRAC0 || std == STD_FRAC9) {
			if ((std == STD_FRAC0 || ((*v == '.' || *v == ',') && isdigit((unsigned char)v[1]))) &&
			    !frac(&v, std == STD_FRAC0 ? len - 1 : 0, &w))
				return false;
			continue;
		}
		if (!parse_std(std, tz, &v, layout, &w))
			return false;
	}
	if (*v != '\0' || w.day < 1 || w.day > days_in(w.month, w.year))
		return false;
	if (w.pm && w.hour < 12)
		w.hour += 12;
	else if (w.am && w.hour == 12)
		w.hour = 0;
	*ms = ((days_from_civil(w.year, (unsigned)w.month, (unsigned)w.day) * 86400 + w.hour * 3600 + w.min * 60 +
		       w.sec - w.offset) * 1000) + w.nsec / 1000000;
	return true;
}

/* Rewrite format with pairs {from, to, ...}: at each place the first pair
 * in the list that matches (strings.NewReplacer's rule). */
static char *
rewrite(const char *format, const char *const *pairs, size_t n)
{
	struct ejson_buf out = {0};

	while (*format) {
		size_t i;

		for (i = 0; i < n; i += 2)
			if (strncmp(format, pairs[i], strlen(pairs[i])) == 0)
				break;
		const char *put = i < n ? pairs[i + 1] : format;
		size_t len = i < n ? strlen(put) : 1;

		ejson_buf_reserve(&out, len);
		memcpy(out.p + out.len, put, len);
		out.len += len;
		format += i < n ? strlen(pairs[i]) : 1;
	}
	ejson_buf_reserve(&out, 0);
	out.p[out.len] = '\0';
	return (char *)out.p;
}

char *
csv_layout_from_ms(const char *format)
{
	static const char *const ms[] = {"dddd", "Monday", "ddd", "Mon", "dd", "02", "d", "2", "MMMM", "January",
		"MMM", "Jan", "MM", "01", "M", "1", "hh", "03", "h", "3", "HH", "15", "H", "15", "mm", "04", "m", "4",
		"ss", "05", "s", "5", "tt", "PM", "yyyy", "2006", "yyy", "2006", "yy", "06", "zzz", "-07:00", "zz",
		"-07"};

	return rewrite(format, ms, sizeof ms / sizeof ms[0]);
}

char *
csv_layout_from_oracle(const char *format)
{
	static const char *const ora[] = {"AM", "PM", "DAY", "Monday", "DY", "Mon", "DD", "02", "HH12", "03",
		"HH24", "15", "HH", "03", "MI", "04", "MONTH", "January", "MON", "Jan", "MM", "01", "SS", "05", "TZD",
		"MST", "TZH:TZM", "-07:00", "TZH", "-07", "YYYY", "2006", "YY", "06"};
	char *upper = bson_strdup(format), *out;

	for (char *p = upper; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	out = rewrite(upper, ora, sizeof ora / sizeof ora[0]);
	bson_free(upper);
	return out;
}
