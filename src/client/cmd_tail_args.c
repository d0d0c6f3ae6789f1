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


int
tail_parse(struct tail *t, struct tail_args *a, int argc, char **argv)
{
	enum { OPT_AFTER = 256, OPT_CURSOR, OPT_UID, OPT_PID, OPT_NOCOLOR, OPT_FACILITY,
	       OPT_MSGID, OPT_UTC, OPT_SHOW_CURSOR, OPT_COLOR, OPT_NO_PAGER };
	static const struct option longopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "lines", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "after-seq", required_argument, NULL, OPT_AFTER },
		{ "cursor-file", required_argument, NULL, OPT_CURSOR },
		{ "tag", required_argument, NULL, 't' },
		{ "priority", required_argument, NULL, 'p' },
		{ "facility", required_argument, NULL, OPT_FACILITY },
		{ "hostname", required_argument, NULL, 'H' },
		{ "msgid", required_argument, NULL, OPT_MSGID },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "output", required_argument, NULL, 'o' },
		{ "grep", required_argument, NULL, 'g' },
		{ "utc", no_argument, NULL, OPT_UTC },
		{ "show-cursor", no_argument, NULL, OPT_SHOW_CURSOR },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "colour", required_argument, NULL, OPT_COLOR },
		{ "no-pager", no_argument, NULL, OPT_NO_PAGER },
		{ "reverse", no_argument, NULL, 'r' },
		{ "no-color", no_argument, NULL, OPT_NOCOLOR },
		{ "no-colour", no_argument, NULL, OPT_NOCOLOR },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct filter *f = &t->filter;
	uint64_t v;
	int c, k;

	int li = -1;

	while ((c = getopt_long(argc, argv, "fn:rS:U:t:p:H:g:o:h", longopts, &li)) != -1) {
		k = 0;
		switch (c) {
		case 'f':
			t->follow = true;
			break;
		case 'n':
			a->lines_set = true;
			a->all = strcmp(optarg, "all") == 0;
			if (!a->all)
				k = parse_u64(optarg, &a->lines);
			break;
		case 'S':
			f->have_since = true;
			if (tail_parse_time(t->cmd, "--since", optarg, &f->since_us) < 0)
				return CLIENT_EXIT_USAGE;
			break;
		case 'U':
			f->have_until = true;
			if (tail_parse_time(t->cmd, "--until", optarg, &f->until_us) < 0)
				return CLIENT_EXIT_USAGE;
			break;
		case OPT_AFTER:
			k = parse_u64(optarg, &f->after_seq);
			t->explicit_after = true;
			break;
		case OPT_CURSOR:
			t->cursor_path = optarg;
			break;
		case 't':
			k = filter_add_tag(f, optarg);
			break;
		case 'p':
			k = filter_set_level(f, optarg);
			break;
		case OPT_FACILITY:
			k = filter_add_facilities(f, optarg);
			break;
		case 'H':
			k = filter_add_host(f, optarg);
			break;
		case OPT_MSGID:
			k = filter_add_msgid(f, optarg);
			break;
		case OPT_UID:
			f->have_uid = true;
			k = tail_parse_uid(optarg, &f->uid);
			break;
		case OPT_PID:
			f->have_pid = true;
			k = parse_u64(optarg, &v);
			f->pid = (int64_t)(v & INT64_MAX);
			break;
		case 'o':
			k = output_mode_from_name(optarg);
			a->mode = k < 0 ? OUTPUT_SHORT : (enum output_mode)k;
			break;
		case OPT_NOCOLOR:
			a->color = 0;
			break;
		case OPT_COLOR:
			a->color = !strcmp(optarg, "auto") ? -1 : !strcmp(optarg, "always") ? 1
							     : !strcmp(optarg, "never") ? 0 : -2;
			k = a->color == -2 ? -EINVAL : 0;
			break;
		case OPT_UTC:
			a->utc = true;
			break;
		case OPT_SHOW_CURSOR:
			a->show_cursor = true;
			break;
		case OPT_NO_PAGER:
			a->no_pager = true;
			break;
		case 'r':
			a->reverse = true;
			break;
		case 'g': {
			char err[300];
			k = filter_set_grep(f, optarg, err, sizeof(err));
			if (k == -EINVAL) {
				fprintf(stderr, "seglog %s: --grep '%s': %s\n", t->cmd, optarg, err);
				return CLIENT_EXIT_USAGE;
			}
			break;
		}
		case 'h':
			tail_usage(t->cmd, stdout);
			return CLIENT_EXIT_OK;
		default:
			tail_usage(t->cmd, stderr);
			return CLIENT_EXIT_USAGE;
		}
		if (k == -E2BIG) {
			const char *name = "";
			for (const struct option *lo = longopts; lo->name; lo++)
				if (lo->val == c)
					name = lo->name;
			fprintf(stderr, "seglog %s: --%s is taken at most %d times\n", t->cmd, name,
				FILTER_TAGS_MAX);
			return CLIENT_EXIT_USAGE;
		}
		if (k < 0) {
			if (li >= 0)
				fprintf(stderr, "seglog %s: invalid value '%s' for --%s\n", t->cmd,
					optarg, longopts[li].name);
			else
				fprintf(stderr, "seglog %s: invalid value '%s' for -%c\n", t->cmd,
					optarg, c);
			return CLIENT_EXIT_USAGE;
		}
		li = -1;
	}
	if (optind < argc) {
		fprintf(stderr, "seglog %s: unexpected argument '%s'\n", t->cmd, argv[optind]);
		return CLIENT_EXIT_USAGE;
	}
	if (a->reverse && (t->follow || t->cursor_path)) {
		fprintf(stderr, "seglog %s: --reverse does not go with %s (they read forwards)\n",
			t->cmd, t->follow ? "--follow" : "--cursor-file");
		return CLIENT_EXIT_USAGE;
	}
	return -1;
}
