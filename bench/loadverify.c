/* bench/loadverify: proves that what bench/loadgen sent was delivered
 * whole (docs/bench.md, "loadgen").
 *
 * Reads delivered lines -- `seglog cat` output (-o short or -o raw), a
 * peer's output file -- from FILE or stdin.  Each line holding LGMSG_MAGIC
 * carries one loadgen message from there to the end of the line
 * (lgmsg.h); other lines are ignored.  Every (client, seq) of K clients x M
 * records must appear exactly once, intact: a record that is missing is
 * lost, one seen again is duplicated, a message that does not parse or
 * differs in any byte from what loadgen sends is corrupt, and with
 * --ordered a client's record after a higher seq of the same client is out
 * of order.  Prints the first problems, then
 *
 *	K clients, M records each: 0 lost, 0 duplicated, 0 corrupt
 *
 * and exits 1 on any problem.  Without -k and -m, K and M are the largest
 * seen, so a loss at the end of a client's run cannot show: loadgen's
 * result line gives both.
 *
 * In C rather than Python: it shares lgmsg.c, the one definition of the
 * message, with the generator (a second implementation could drift from
 * it and pass what loadgen never sent), and it checks the 2 M records of a
 * full run in about the time `seglog cat` takes to print them, with one
 * bit per record. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "lgmsg.h"

enum {
	LV_CLIENTS_MAX = 1 << 20,
	LV_SEQ_MAX = 1 << 28, /* without -m: a seq above is corrupt, not a 32 MiB bitmap */
	LV_SHOWN = 10,	      /* problems of each kind printed */
	LV_EXIT_USAGE = 2,
};

enum lv_kind {
	LV_LOST,
	LV_DUP,
	LV_CORRUPT,
	LV_ORDER,
	_LV_KIND_MAX,
};

static const char *const lv_kind_names[] = {
	[LV_LOST] = "lost",
	[LV_DUP] = "duplicated",
	[LV_CORRUPT] = "corrupt",
	[LV_ORDER] = "out of order",
};

struct lv_client {
	uint8_t *seen; /* bit seq - 1 */
	uint64_t cap;  /* bits */
	uint64_t last; /* the highest seq seen */
};

struct lv {
	uint64_t want_clients, want_records; /* 0: infer */
	bool ordered;
	struct lv_client *clients;
	uint64_t n_clients, max_seq;
	uint64_t count[_LV_KIND_MAX];
	uint64_t records, other_lines;
	char *scratch;
};

static struct lv *
lv_free(struct lv *v)
{
	if (!v)
		return NULL;
	for (uint64_t i = 0; i < v->n_clients; i++)
		free(v->clients[i].seen);
	free(v->clients);
	free(v->scratch);
	free(v);
	return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct lv *, lv_free)

/* Counts a problem and prints the first LV_SHOWN of its kind. */
static void __attribute__((format(printf, 3, 4)))
lv_problem(struct lv *v, enum lv_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (v->count[kind]++ >= LV_SHOWN)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (v->count[kind] == LV_SHOWN)
		printf("(further %s records not shown)\n", lv_kind_names[kind]);
}

/* The bitmap of client c, grown to hold seq: -ENOMEM, or 0. */
static int
lv_reserve(struct lv *v, uint32_t c, uint64_t seq)
{
	struct lv_client *cl;

	if (c >= v->n_clients) {
		uint64_t n = c + 1;
		struct lv_client *nc = realloc(v->clients, n * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		memset(nc + v->n_clients, 0, (n - v->n_clients) * sizeof(*nc));
		v->clients = nc;
		v->n_clients = n;
	}
	cl = &v->clients[c];
	if (seq > cl->cap) {
		uint64_t ncap = v->want_records ? v->want_records : cl->cap ? cl->cap : 1024;
		uint8_t *ns;

		while (ncap < seq)
			ncap *= 2;
		ns = realloc(cl->seen, (ncap + 7) / 8);
		if (!ns)
			return -ENOMEM;
		memset(ns + (cl->cap + 7) / 8, 0, (ncap + 7) / 8 - (cl->cap + 7) / 8);
		cl->seen = ns;
		cl->cap = ncap;
	}
	return 0;
}

static bool
lv_seen(const struct lv *v, uint64_t c, uint64_t seq)
{
	const struct lv_client *cl = c < v->n_clients ? &v->clients[c] : NULL;

	return cl && seq <= cl->cap && (cl->seen[(seq - 1) / 8] & (1u << ((seq - 1) % 8)));
}

/* Whether the message p[0 .. mlen) of line lineno is one loadgen sent in
 * this run, with *ret its numbers; if not, it is counted as corrupt. */
static bool
lv_intact(struct lv *v, const char *p, size_t mlen, uint64_t lineno, struct lgmsg *ret)
{
	uint64_t max_c = v->want_clients ? v->want_clients : LV_CLIENTS_MAX;
	uint64_t max_n = v->want_records ? v->want_records : LV_SEQ_MAX;
	struct lgmsg m;
	size_t i = 0;

	if (lgmsg_parse(p, mlen, &m) < 0) {
		lv_problem(v, LV_CORRUPT,
			   "line %" PRIu64 ": corrupt: no \"lg C=.. N=.. S=.. \" prefix: "
			   "%.80s\n",
			   lineno, p);
		return false;
	}
	if (mlen != m.size) {
		lv_problem(v, LV_CORRUPT,
			   "line %" PRIu64 ": corrupt: C=%" PRIu32 " N=%" PRIu64 ": %zu "
			   "bytes, loadgen sent %zu\n",
			   lineno, m.client, m.seq, mlen, m.size);
		return false;
	}
	lgmsg_format(v->scratch, &m);
	if (memcmp(p, v->scratch, mlen) != 0) {
		while (p[i] == v->scratch[i])
			i++;
		lv_problem(v, LV_CORRUPT,
			   "line %" PRIu64 ": corrupt: C=%" PRIu32 " N=%" PRIu64 ": byte "
			   "%zu of the message is 0x%02x, loadgen sent '%c'\n",
			   lineno, m.client, m.seq, i, (unsigned char)p[i], v->scratch[i]);
		return false;
	}
	if (m.client >= max_c || m.seq > max_n) {
		lv_problem(v, LV_CORRUPT,
			   "line %" PRIu64 ": corrupt: C=%" PRIu32 " N=%" PRIu64 " is "
			   "outside the run (C=0..%" PRIu64 ", N=1..%" PRIu64 ")\n",
			   lineno, m.client, m.seq, max_c - 1, max_n);
		return false;
	}
	*ret = m;
	return true;
}

/* One line (without its newline), number lineno. */
static int
lv_line(struct lv *v, const char *line, size_t len, uint64_t lineno)
{
	const char *p = memmem(line, len, LGMSG_MAGIC, strlen(LGMSG_MAGIC));
	struct lv_client *cl;
	struct lgmsg m;
	int k;

	if (!p) {
		v->other_lines++;
		return 0;
	}
	v->records++;
	if (!lv_intact(v, p, len - (size_t)(p - line), lineno, &m))
		return 0;
	k = lv_reserve(v, m.client, m.seq);
	if (k < 0)
		return k;
	if (lv_seen(v, m.client, m.seq)) {
		lv_problem(v, LV_DUP, "line %" PRIu64 ": duplicated: C=%" PRIu32 " N=%" PRIu64 "\n",
			   lineno, m.client, m.seq);
		return 0;
	}
	cl = &v->clients[m.client];
	cl->seen[(m.seq - 1) / 8] |= (uint8_t)(1u << ((m.seq - 1) % 8));
	if (v->ordered && m.seq < cl->last)
		lv_problem(v, LV_ORDER, "line %" PRIu64 ": out of order: C=%" PRIu32 " N=%" PRIu64
			   " after N=%" PRIu64 "\n", lineno, m.client, m.seq, cl->last);
	if (m.seq > cl->last)
		cl->last = m.seq;
	if (m.seq > v->max_seq)
		v->max_seq = m.seq;
	return 0;
}

/* The records never seen, as ranges "C=c N=a..b". */
static void
lv_lost(struct lv *v, uint64_t clients, uint64_t records)
{
	unsigned shown = 0;

	for (uint64_t c = 0; c < clients; c++)
		for (uint64_t n = 1, a; n <= records;) {
			if (lv_seen(v, c, n)) {
				n++;
				continue;
			}
			for (a = n; n <= records && !lv_seen(v, c, n); n++)
				;
			if (shown++ < LV_SHOWN)
				printf("lost: C=%" PRIu64 " N=%" PRIu64 "..%" PRIu64 " (%" PRIu64
				       " record%s)\n", c, a, n - 1, n - a, n - a == 1 ? "" : "s");
			v->count[LV_LOST] += n - a;
		}
}

static int
lv_read(struct lv *v, FILE *f, const char *name)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	uint64_t lineno = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, f)) >= 0) {
		int k;

		if (n > 0 && line[n - 1] == '\n')
			n--;
		k = lv_line(v, line, (size_t)n, ++lineno);
		if (k < 0) {
			fprintf(stderr, "loadverify: %s\n", strerror(-k));
			return k;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "loadverify: reading %s: %m\n", name);
		return -EIO;
	}
	return 0;
}

static void
lv_usage(FILE *f)
{
	fprintf(f,
		"Usage: loadverify [-k CLIENTS] [-m RECORDS] [--ordered] [FILE]\n"
		"\n"
		"Checks delivered lines (seglog cat -o short or -o raw, a peer's output file;\n"
		"FILE or stdin) for bench/loadgen's records: each of CLIENTS x RECORDS exactly\n"
		"once and intact.  Prints the first problems and a summary line.\n"
		"\n"
		"  -k, --clients K   the run's clients (default: the largest C= seen, + 1)\n"
		"  -m, --records M   the run's records per client (default: the largest N= seen)\n"
		"      --ordered     each client's records must come in order of N\n"
		"  -h, --help        this text\n"
		"\n"
		"Exit status: 0 all there and intact, 1 problems, 2 usage or unreadable input.\n");
}

static int
lv_number(const char *opt, const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || errno || *end || n == 0 || n > max) {
		fprintf(stderr, "loadverify: %s: '%s' is not a number from 1 to %" PRIu64 "\n", opt,
			s, max);
		return -EINVAL;
	}
	*ret = n;
	return 0;
}

static int
lv_parse_args(int argc, char **argv, struct lv *v, const char **ret_file)
{
	enum { OPT_ORDERED = 0x100 };
	static const struct option longopts[] = {
		{ "clients", required_argument, NULL, 'k' },
		{ "records", required_argument, NULL, 'm' },
		{ "ordered", no_argument, NULL, OPT_ORDERED },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "k:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (lv_number("--clients", optarg, LV_CLIENTS_MAX, &v->want_clients) < 0)
				return -EINVAL;
			break;
		case 'm':
			if (lv_number("--records", optarg, UINT32_MAX, &v->want_records) < 0)
				return -EINVAL;
			break;
		case OPT_ORDERED:
			v->ordered = true;
			break;
		case 'h':
			lv_usage(stdout);
			return 1;
		default:
			lv_usage(stderr);
			return -EINVAL;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "loadverify: one FILE at most (see --help)\n");
		return -EINVAL;
	}
	*ret_file = optind < argc ? argv[optind] : NULL;
	return 0;
}

int
main(int argc, char **argv)
{
	_cleanup_(lv_freep) struct lv *v = calloc(1, sizeof(*v));
	_cleanup_fclose_ FILE *in = NULL;
	const char *file = NULL;
	uint64_t clients, records, problems = 0;
	int k;

	if (!v || !(v->scratch = malloc(LGMSG_SIZE_MAX))) {
		fprintf(stderr, "loadverify: out of memory\n");
		return 1;
	}
	k = lv_parse_args(argc, argv, v, &file);
	if (k != 0)
		return k > 0 ? 0 : LV_EXIT_USAGE;
	if (file && strcmp(file, "-") != 0) {
		in = fopen(file, "re");
		if (!in) {
			fprintf(stderr, "loadverify: cannot open %s: %m\n", file);
			return LV_EXIT_USAGE;
		}
	}
	if (lv_read(v, in ? in : stdin, file ? file : "stdin") < 0)
		return LV_EXIT_USAGE;
	if (v->records == 0) {
		printf("no loadgen records (\"" LGMSG_MAGIC "...\") in %s\n",
		       file ? file : "stdin");
		return 1;
	}
	clients = v->want_clients ? v->want_clients : v->n_clients;
	records = v->want_records ? v->want_records : v->max_seq;
	if (!v->want_clients || !v->want_records)
		fprintf(stderr,
			"loadverify: %s inferred from the input: a loss at the end of a run "
			"cannot show (give -k and -m, from loadgen's result line)\n",
			!v->want_clients && !v->want_records ? "clients and records"
			: !v->want_clients		     ? "clients"
							     : "records");
	lv_lost(v, clients, records);
	printf("%" PRIu64 " clients, %" PRIu64 " records each: %" PRIu64 " lost, %" PRIu64
	       " duplicated, %" PRIu64 " corrupt", clients, records, v->count[LV_LOST],
	       v->count[LV_DUP], v->count[LV_CORRUPT]);
	if (v->ordered)
		printf(", %" PRIu64 " out of order", v->count[LV_ORDER]);
	printf("\n");
	for (int i = 0; i < _LV_KIND_MAX; i++)
		problems += v->count[i];
	return problems ? 1 : 0;
}
