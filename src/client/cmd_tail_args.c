/* The command line of seglog tail / seglog cat (see cmd_tail.h). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "cmd_tail.h"
#include "now.h"
#include "parse.h"
#include "timespec.h"

void
tail_usage(const char *cmd, FILE *f)
{
	fprintf(f,
		"Usage: seglog %s [OPTIONS]\n"
		"Records of the data directory in seq order (%s).\n"
		"\n"
		"  -f, --follow          keep reading as records arrive, across rotations\n"
		"  -n, --lines N|all     the last N matching records (tail: 10; cat: all)\n"
		"  -r, --reverse         newest first (not with -f or --cursor-file)\n"
		"  -S, --since TIME      records at or after TIME (2026-11-24T09:00:00Z,\n"
		"                        '2026-11-24 10:00', -1h, -30min, today, @EPOCH)\n"
		"  -U, --until TIME      records at or before TIME\n"
		"      --after-seq N     records after seq N\n"
		"      --cursor-file F   start after the seq stored in F; store the last\n"
		"                        printed seq there (atomically) on exit and while\n"
		"                        following\n"
		"  -t, --tag TAG         records with this tag (repeatable: any of them)\n"
		"  -p, --priority LEVEL  this level and more severe (emerg..debug or 0..7),\n"
		"                        or a range FROM..TO\n"
		"      --facility LIST   records of these facilities (auth,authpriv or 0..23;\n"
		"                        repeatable)\n"
		"  -H, --hostname HOST   records whose sender claimed this HOSTNAME ('-':\n"
		"                        none claimed; repeatable)\n"
		"      --msgid ID        records with this RFC 5424 MSGID (repeatable)\n"
		"      --uid UID         records from this user (number or name)\n"
		"      --pid PID         records from this process\n"
		"  -g, --grep PATTERN    messages matching this PCRE2 pattern (case-insensitive\n"
		"                        unless it has upper case)\n"
		"  -o, --output MODE     short (default), short-iso, short-precise, json (one\n"
		"                        object a line), raw or cat (the message only)\n"
		"      --utc             times in UTC, not the local time zone\n"
		"      --show-cursor     after the records, the cursor of the last one\n"
		"      --color WHEN      colour by severity: auto (on a terminal), always,\n"
		"                        never; --no-color is never\n"
		"      --no-pager        no pager, even on a terminal (without -f, output to\n"
		"                        a terminal goes through $SEGLOG_PAGER, $PAGER or less)\n"
		"  -h, --help            this text\n",
		cmd, strcmp(cmd, "cat") == 0 ? "all of them" : "the last ones");
}

static int
tail_parse_time(const char *cmd, const char *opt, const char *s, uint64_t *ret)
{
	int k = timespec_parse(s, now_us(CLOCK_REALTIME), ret);
	if (k < 0)
		fprintf(stderr, "seglog %s: %s: '%s' is %s\n", cmd, opt, s,
			k == -ERANGE ? "out of range" : "not a time (see seglog(1))");
	return k;
}

static int
tail_parse_uid(const char *s, uint32_t *ret)
{
	uint64_t v;
	struct passwd *pw;

	if (parse_u64(s, &v) == 0 && v <= UINT32_MAX) {
		*ret = (uint32_t)v;
		return 0;
	}
	pw = getpwnam(s);
	if (!pw)
		return -EINVAL;
	*ret = pw->pw_uid;
	return 0;
}


/* --- the options ------------------------------------------------------------
 * One handler per option, called with its argument; it returns 0 or a
 * negative errno.  For -EINVAL (and any other error) tail_parse() names the
 * value and the option as it was spelled, for -E2BIG how often the option
 * may be taken, unless the handler set reported (it said more itself). */

struct tail_cmdline {
	struct tail *t;
	struct tail_args *a;
	bool reported;
};

typedef int (*tail_option_fn)(struct tail_cmdline *cl, const char *arg);

static int
tail_opt_follow(struct tail_cmdline *cl, const char *arg)
{
	cl->t->follow = true;
	return 0;
}

static int
tail_opt_lines(struct tail_cmdline *cl, const char *arg)
{
	cl->a->lines_set = true;
	cl->a->all = strcmp(arg, "all") == 0;
	return cl->a->all ? 0 : parse_u64(arg, &cl->a->lines);
}

static int
tail_opt_time(struct tail_cmdline *cl, const char *opt, const char *arg, bool *ret_have,
	      uint64_t *ret_us)
{
	*ret_have = true;
	if (tail_parse_time(cl->t->cmd, opt, arg, ret_us) < 0) {
		cl->reported = true;
		return -EINVAL;
	}
	return 0;
}

static int
tail_opt_since(struct tail_cmdline *cl, const char *arg)
{
	struct filter *f = &cl->t->filter;
	return tail_opt_time(cl, "--since", arg, &f->have_since, &f->since_us);
}

static int
tail_opt_until(struct tail_cmdline *cl, const char *arg)
{
	struct filter *f = &cl->t->filter;
	return tail_opt_time(cl, "--until", arg, &f->have_until, &f->until_us);
}

static int
tail_opt_after(struct tail_cmdline *cl, const char *arg)
{
	cl->t->explicit_after = true;
	return parse_u64(arg, &cl->t->filter.after_seq);
}

static int
tail_opt_cursor(struct tail_cmdline *cl, const char *arg)
{
	cl->t->cursor_path = arg;
	return 0;
}

static int
tail_opt_tag(struct tail_cmdline *cl, const char *arg)
{
	return filter_add_tag(&cl->t->filter, arg);
}

static int
tail_opt_priority(struct tail_cmdline *cl, const char *arg)
{
	return filter_set_level(&cl->t->filter, arg);
}

static int
tail_opt_facility(struct tail_cmdline *cl, const char *arg)
{
	return filter_add_facilities(&cl->t->filter, arg);
}

static int
tail_opt_hostname(struct tail_cmdline *cl, const char *arg)
{
	return filter_add_host(&cl->t->filter, arg);
}

static int
tail_opt_msgid(struct tail_cmdline *cl, const char *arg)
{
	return filter_add_msgid(&cl->t->filter, arg);
}

static int
tail_opt_uid(struct tail_cmdline *cl, const char *arg)
{
	cl->t->filter.have_uid = true;
	return tail_parse_uid(arg, &cl->t->filter.uid);
}

static int
tail_opt_pid(struct tail_cmdline *cl, const char *arg)
{
	uint64_t v;
	int k = parse_u64(arg, &v);

	cl->t->filter.have_pid = true;
	if (k < 0)
		return k;
	cl->t->filter.pid = (int64_t)(v & INT64_MAX);
	return 0;
}

static int
tail_opt_output(struct tail_cmdline *cl, const char *arg)
{
	int k = output_mode_from_name(arg);

	cl->a->mode = k < 0 ? OUTPUT_SHORT : (enum output_mode)k;
	return k < 0 ? k : 0;
}

static int
tail_opt_grep(struct tail_cmdline *cl, const char *arg)
{
	char err[300];
	int k = filter_set_grep(&cl->t->filter, arg, err, sizeof(err));

	if (k == -EINVAL) {
		fprintf(stderr, "seglog %s: --grep '%s': %s\n", cl->t->cmd, arg, err);
		cl->reported = true;
	}
	return k;
}

static int
tail_opt_color(struct tail_cmdline *cl, const char *arg)
{
	cl->a->color = !strcmp(arg, "auto")	? -1
		       : !strcmp(arg, "always") ? 1
		       : !strcmp(arg, "never")	? 0
						: -2;
	return cl->a->color == -2 ? -EINVAL : 0;
}

static int
tail_opt_no_color(struct tail_cmdline *cl, const char *arg)
{
	cl->a->color = 0;
	return 0;
}

static int
tail_opt_utc(struct tail_cmdline *cl, const char *arg)
{
	cl->a->utc = true;
	return 0;
}

static int
tail_opt_show_cursor(struct tail_cmdline *cl, const char *arg)
{
	cl->a->show_cursor = true;
	return 0;
}

static int
tail_opt_no_pager(struct tail_cmdline *cl, const char *arg)
{
	cl->a->no_pager = true;
	return 0;
}

static int
tail_opt_reverse(struct tail_cmdline *cl, const char *arg)
{
	cl->a->reverse = true;
	return 0;
}

/* The options: getopt_long's table and short-option string are made from
 * it (tail_getopt_table).  --help has no handler. */
static const struct tail_option {
	const char *name;
	char short_name; /* 0: none */
	bool has_arg;
	tail_option_fn fn;
} tail_options[] = {
	{ "follow", 'f', false, tail_opt_follow },
	{ "lines", 'n', true, tail_opt_lines },
	{ "since", 'S', true, tail_opt_since },
	{ "until", 'U', true, tail_opt_until },
	{ "after-seq", 0, true, tail_opt_after },
	{ "cursor-file", 0, true, tail_opt_cursor },
	{ "tag", 't', true, tail_opt_tag },
	{ "priority", 'p', true, tail_opt_priority },
	{ "facility", 0, true, tail_opt_facility },
	{ "hostname", 'H', true, tail_opt_hostname },
	{ "msgid", 0, true, tail_opt_msgid },
	{ "uid", 0, true, tail_opt_uid },
	{ "pid", 0, true, tail_opt_pid },
	{ "output", 'o', true, tail_opt_output },
	{ "grep", 'g', true, tail_opt_grep },
	{ "utc", 0, false, tail_opt_utc },
	{ "show-cursor", 0, false, tail_opt_show_cursor },
	{ "color", 0, true, tail_opt_color },
	{ "colour", 0, true, tail_opt_color },
	{ "no-pager", 0, false, tail_opt_no_pager },
	{ "reverse", 'r', false, tail_opt_reverse },
	{ "no-color", 0, false, tail_opt_no_color },
	{ "no-colour", 0, false, tail_opt_no_color },
	{ "help", 'h', false, NULL },
};

enum {
	TAIL_OPTIONS = ELEMENTSOF(tail_options),
	TAIL_LONG_ONLY = 256,
};

/* The getopt_long value of a long-only option: TAIL_LONG_ONLY + the index
 * of the first option with its handler, so that an alias (--colour) has
 * the value of its original and getopt_long takes an abbreviation of both
 * (--col) as theirs, not as ambiguous. */
static int
tail_long_only_val(size_t i)
{
	size_t first = 0;

	while (tail_options[first].fn != tail_options[i].fn)
		first++;
	return TAIL_LONG_ONLY + (int)first;
}

/* getopt_long's view of tail_options: longopts (TAIL_OPTIONS + 1 entries)
 * and shortopts (at most 2 * TAIL_OPTIONS + 1 bytes). */
static void
tail_getopt_table(struct option *longopts, char *shortopts)
{
	for (size_t i = 0; i < TAIL_OPTIONS; i++) {
		const struct tail_option *o = &tail_options[i];
		longopts[i] = (struct option){
			.name = o->name,
			.has_arg = o->has_arg ? required_argument : no_argument,
			.val = o->short_name ? o->short_name : tail_long_only_val(i),
		};
		if (o->short_name) {
			*shortopts++ = o->short_name;
			if (o->has_arg)
				*shortopts++ = ':';
		}
	}
	longopts[TAIL_OPTIONS] = (struct option){ 0 };
	*shortopts = '\0';
}

/* The option getopt_long returned as c, or NULL for '?' (it said why). */
static const struct tail_option *
tail_option_of(int c)
{
	if (c >= TAIL_LONG_ONLY)
		return c < TAIL_LONG_ONLY + TAIL_OPTIONS ? &tail_options[c - TAIL_LONG_ONLY] : NULL;
	for (size_t i = 0; i < TAIL_OPTIONS; i++)
		if (c != 0 && tail_options[i].short_name == c)
			return &tail_options[i];
	return NULL;
}

/* Says why the value arg of an option was refused: spelled as --name when
 * given long (longopts[li]), else as -c. */
static void
tail_option_error(const char *cmd, const struct tail_option *o, int c, const char *spelled,
		  const char *arg, int k)
{
	if (k == -E2BIG)
		fprintf(stderr, "seglog %s: --%s is taken at most %d times\n", cmd, o->name,
			FILTER_TAGS_MAX);
	else if (spelled)
		fprintf(stderr, "seglog %s: invalid value '%s' for --%s\n", cmd, arg, spelled);
	else
		fprintf(stderr, "seglog %s: invalid value '%s' for -%c\n", cmd, arg, c);
}

/* What the options say together, once they are all read. */
static int
tail_check_args(const struct tail *t, const struct tail_args *a, int argc, char **argv)
{
	if (optind < argc) {
		fprintf(stderr, "seglog %s: unexpected argument '%s'\n", t->cmd, argv[optind]);
		return -EINVAL;
	}
	if (a->reverse && (t->follow || t->cursor_path)) {
		fprintf(stderr, "seglog %s: --reverse does not go with %s (they read forwards)\n",
			t->cmd, t->follow ? "--follow" : "--cursor-file");
		return -EINVAL;
	}
	return 0;
}

int
tail_parse(struct tail *t, struct tail_args *a, int argc, char **argv)
{
	struct option longopts[TAIL_OPTIONS + 1];
	char shortopts[2 * TAIL_OPTIONS + 1];
	struct tail_cmdline cl = { .t = t, .a = a };
	int c, li = -1;

	tail_getopt_table(longopts, shortopts);
	while ((c = getopt_long(argc, argv, shortopts, longopts, &li)) != -1) {
		const struct tail_option *o = tail_option_of(c);
		int k;

		if (!o) {
			tail_usage(t->cmd, stderr);
			return -EINVAL;
		}
		if (!o->fn) {
			tail_usage(t->cmd, stdout);
			return 1;
		}
		k = o->fn(&cl, optarg);
		if (k < 0) {
			if (!cl.reported)
				tail_option_error(t->cmd, o, c, li >= 0 ? longopts[li].name : NULL,
						  optarg, k);
			return k;
		}
		li = -1;
	}
	return tail_check_args(t, a, argc, argv);
}
