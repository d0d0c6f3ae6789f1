/* Record selection for seglog tail/cat (see filter.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "filter.h"

void
filter_init(struct filter *f)
{
	*f = (struct filter){ .sev_min = 0, .sev_max = 7 };
}

int
filter_set_level(struct filter *f, const char *spec)
{
	const char *dots = strstr(spec, "..");
	int a, b;

	if (!dots) {
		a = record_severity_parse(spec, strlen(spec));
		if (a < 0)
			return -EINVAL;
		f->sev_min = 0;
		f->sev_max = a;
		return 0;
	}
	a = record_severity_parse(spec, (size_t)(dots - spec));
	b = record_severity_parse(dots + 2, strlen(dots + 2));
	if (a < 0 || b < 0)
		return -EINVAL;
	f->sev_min = a < b ? a : b;
	f->sev_max = a < b ? b : a;
	return 0;
}

/* Appends a borrowed word to one of the filter's lists. */
static int
filter_push(const char **list, size_t *n, const char *word)
{
	if (!*word)
		return -EINVAL; /* an empty name matches nothing: a mistake */
	if (*n >= FILTER_TAGS_MAX)
		return -E2BIG;
	list[(*n)++] = word;
	return 0;
}

int
filter_add_tag(struct filter *f, const char *tag)
{
	return filter_push(f->tags, &f->n_tags, tag);
}

int
filter_add_host(struct filter *f, const char *host)
{
	return filter_push(f->hosts, &f->n_hosts, host);
}

int
filter_add_msgid(struct filter *f, const char *msgid)
{
	return filter_push(f->msgids, &f->n_msgids, msgid);
}

int
filter_add_facilities(struct filter *f, const char *spec)
{
	uint32_t bits = 0;

	for (const char *p = spec;;) {
		size_t n = strcspn(p, ",");
		int fac = record_facility_parse(p, n);
		if (fac < 0)
			return -EINVAL;
		bits |= UINT32_C(1) << fac;
		if (!p[n])
			break;
		p += n + 1;
	}
	f->facilities |= bits;
	return 0;
}

int
filter_set_grep(struct filter *f, const char *pattern, char *err, size_t errlen)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	int code;
	PCRE2_SIZE at;
	pcre2_code *re;
	bool upper = false;

	/* journalctl's smart case: an upper-case letter (outside an escape
	 * like \S) makes the pattern case-sensitive */
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p >= 'A' && *p <= 'Z')
			upper = true;
	}
	if (!upper)
		opts |= PCRE2_CASELESS;
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &code, &at, NULL);
	if (!re) {
		char msg[256];
		pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg));
		snprintf(err, errlen, "%s at offset %zu", msg, (size_t)at);
		return -EINVAL;
	}
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* faster where JIT exists */
	filter_done(f);
	f->grep = re;
	f->grep_match = pcre2_match_data_create_from_pattern(re, NULL);
	if (!f->grep_match) {
		filter_done(f);
		return -ENOMEM;
	}
	return 0;
}

void
filter_done(struct filter *f)
{
	pcre2_match_data_free(f->grep_match);
	pcre2_code_free(f->grep);
	f->grep = f->grep_match = NULL;
}

/* One of the words matches s[0..n) (exactly, or ignoring ASCII case);
 * the word "-" matches an empty s. */
static bool
filter_word_match(const char *const *words, size_t n_words, const char *s, size_t n, bool icase)
{
	for (size_t i = 0; i < n_words; i++) {
		const char *w = words[i];
		size_t wn = strlen(w);
		/* "-" is "none", never the one-byte name "-" */
		if (strcmp(w, "-") == 0 ? n == 0
					: wn == n && (icase ? strncasecmp(w, s, n) : memcmp(w, s, n)) == 0)
			return true;
	}
	return false;
}

static bool
filter_tag_match(const struct filter *f, const struct record *r)
{
	for (size_t i = 0; i < f->n_tags; i++)
		if (strlen(f->tags[i]) == r->tag_len && memcmp(f->tags[i], r->tag, r->tag_len) == 0)
			return true;
	return false;
}

bool
filter_match(const struct filter *f, const struct record *r)
{
	if (r->seq <= f->after_seq)
		return false;
	if (f->have_since && r->time_us < f->since_us)
		return false;
	if (f->have_until && r->time_us > f->until_us)
		return false;
	if (r->severity < f->sev_min || r->severity > f->sev_max)
		return false;
	if (f->have_uid && r->uid != f->uid)
		return false;
	if (f->have_pid && r->pid != f->pid)
		return false;
	if (f->n_tags && !filter_tag_match(f, r))
		return false;
	if (f->facilities && !(f->facilities >> r->facility & 1))
		return false;
	if (f->n_hosts && !filter_word_match(f->hosts, f->n_hosts, r->hostname, r->hostname_len,
					     true))
		return false;
	if (f->n_msgids &&
	    !filter_word_match(f->msgids, f->n_msgids, r->msgid, r->msgid_len, false))
		return false;
	if (f->grep && pcre2_match(f->grep, (PCRE2_SPTR)(r->msg_len ? r->msg : ""), r->msg_len, 0,
				   0, f->grep_match, NULL) < 0)
		return false;
	return true;
}

bool
filter_past_end(const struct filter *f, const struct record *r)
{
	return f->have_until && r->time_us > f->until_us;
}
