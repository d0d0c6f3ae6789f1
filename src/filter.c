/* Record selection for seglog tail/cat (see filter.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

void
filter_init(struct filter *f)
{
	*f = (struct filter){ .sev_min = 0, .sev_max = 7 };
}

/* A severity name as syslog spells it, or a digit 0..7. */
static int
filter_level(const char *s, size_t n)
{
	if (n == 1 && s[0] >= '0' && s[0] <= '7')
		return s[0] - '0';
	return record_severity_from_name(s, n);
}

int
filter_set_level(struct filter *f, const char *spec)
{
	const char *dots = strstr(spec, "..");
	int a, b;

	if (!dots) {
		a = filter_level(spec, strlen(spec));
		if (a < 0)
			return -EINVAL;
		f->sev_min = 0;
		f->sev_max = a;
		return 0;
	}
	a = filter_level(spec, (size_t)(dots - spec));
	b = filter_level(dots + 2, strlen(dots + 2));
	if (a < 0 || b < 0)
		return -EINVAL;
	f->sev_min = a < b ? a : b;
	f->sev_max = a < b ? b : a;
	return 0;
}

int
filter_add_tag(struct filter *f, const char *tag)
{
	if (f->n_tags >= FILTER_TAGS_MAX)
		return -E2BIG;
	f->tags[f->n_tags++] = tag;
	return 0;
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
	return true;
}

bool
filter_past_end(const struct filter *f, const struct record *r)
{
	return f->have_until && r->time_us > f->until_us;
}
