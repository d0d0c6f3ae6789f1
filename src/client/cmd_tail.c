/* seglog tail / seglog cat: records of a data directory in seq order,
 * selected (filter.c), formatted (output.c), optionally followed across
 * rotations with inotify.  Reads only: never writes to the data directory.
 * The one file it writes, --cursor-file (cursor.c), goes through the
 * atomic-file guard, may not lie in the data directory, and is refused for
 * a directory with another id.  Records come from the reader only once
 * they are durable (reader.h), so a cursor never runs ahead of what a
 * power loss keeps. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cmd_tail.h"
#include "cleanup.h"
#include "cursor.h"
#include "filter.h"
#include "now.h"
#include "output.h"
#include "pager.h"
#include "reader.h"
#include "segdir.h"
#include "timespec.h"

enum {
	TAIL_OUT_BUF = 256 << 10,
	/* --reverse reads windows of at most this many seqs backwards, printing
	 * each newest first, so memory stays bounded on any history */
	TAIL_REVERSE_WINDOW_MAX = 64 << 10,
	TAIL_CURSOR_PERIOD_US = 1000000, /* the cursor is saved at most this often */
	TAIL_POLL_MS = 1000,	 /* a safety net behind inotify */
	TAIL_POLL_NO_INOTIFY_MS = 200,
	TAIL_WARNED_MAX = 4096,
	TAIL_STOP = 1,		 /* --until passed, a signal, or the reader of stdout left */
};

struct tail_line {
	uint64_t seq;
	char *text;
	size_t len;
};

struct tail_warned {
	char file[32];
	uint64_t offset;
};


static volatile sig_atomic_t tail_signalled;

static void
tail_signalcb(int sig)
{
	(void)sig;
	tail_signalled = 1;
}

/* Writes out the buffered records.  EPIPE (the reader of stdout left, as
 * `| head` does) is a normal end: TAIL_STOP. */
static int
tail_flush(struct tail *t)
{
	size_t done = 0;

	while (done < t->olen) {
		ssize_t n = write(STDOUT_FILENO, t->obuf + done, t->olen - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
			(void)poll(&p, 1, -1);
			continue;
		}
		if (n < 0 && errno == EPIPE) {
			t->epipe = true;
			return TAIL_STOP;
		}
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	t->olen = 0;
	t->printed_seq = t->buffered_seq;
	return 0;
}

/* Saves the cursor (the last seq written out) if it moved: at most once a
 * TAIL_CURSOR_PERIOD_US unless forced (at exit).  So after SIGKILL the
 * next run repeats at most what was written out in the last period. */
static int
tail_cursor_save(struct tail *t, bool force)
{
	struct cursor c = { .seq = t->printed_seq };
	int k;

	if (!t->cursor_path || t->printed_seq == 0 || !reader_dir_id(t->rd, c.dir_id))
		return 0;
	k = cursor_file_save(&t->cursor, &c, now_us(CLOCK_MONOTONIC), force);
	if (k < 0) {
		errno = -k;
		fprintf(stderr, "seglog %s: cannot write cursor file %s: %m\n", t->cmd,
			t->cursor_path);
		return k;
	}
	return 0;
}

/* Milliseconds until the cursor is due to be saved, or -1. */
static int
tail_cursor_due_ms(struct tail *t)
{
	struct cursor c = { .seq = t->printed_seq };
	int64_t us;

	if (!t->cursor_path || t->printed_seq == 0 || !reader_dir_id(t->rd, c.dir_id))
		return -1;
	us = cursor_file_due_in(&t->cursor, &c, now_us(CLOCK_MONOTONIC));
	return us < 0 ? -1 : (int)((us + 999) / 1000);
}

/* Makes room for len more bytes in the output buffer. */
static int
tail_reserve(struct tail *t, size_t len)
{
	int k;

	if (t->olen + len <= t->ocap)
		return 0;
	k = tail_flush(t);
	if (k == 0)
		(void)tail_cursor_save(t, false);
	if (k != 0 || len <= t->ocap)
		return k;
	char *nb = realloc(t->obuf, len);
	if (!nb)
		return -ENOMEM;
	t->obuf = nb;
	t->ocap = len;
	return 0;
}

static int
tail_emit(struct tail *t, const char *text, size_t len, uint64_t seq)
{
	int k = tail_reserve(t, len);
	if (k != 0)
		return k;
	memcpy(t->obuf + t->olen, text, len);
	t->olen += len;
	t->buffered_seq = seq;
	return 0;
}

static int
tail_print(struct tail *t, const struct record *r)
{
	int k = tail_reserve(t, output_max(r));
	if (k != 0)
		return k;
	t->olen += output_format(&t->out, r, t->obuf + t->olen);
	t->buffered_seq = r->seq;
	return 0;
}

/* Damage is reported once per place, although tail's windows may read
 * the same bytes twice. */
static bool
tail_first_warning(struct tail *t, const char *file, uint64_t offset)
{
	for (size_t i = 0; i < t->n_warned; i++)
		if (t->warned[i].offset == offset && strcmp(t->warned[i].file, file) == 0)
			return false;
	if (t->n_warned < TAIL_WARNED_MAX) {
		if (!t->warned && !(t->warned = calloc(TAIL_WARNED_MAX, sizeof(*t->warned))))
			return true;
		snprintf(t->warned[t->n_warned].file, sizeof(t->warned[0].file), "%s", file);
		t->warned[t->n_warned++].offset = offset;
	}
	return true;
}

/* Reports what is not a record.  The incomplete last line of `current`
 * is a record being written while a writer holds the lock, damage only
 * without one. */
static void
tail_problem(struct tail *t, const struct reader_event *ev)
{
	if (ev->type == READER_DAMAGED && ev->in_current) {
		if (t->writer_active < 0)
			t->writer_active = reader_writer_active(t->dir);
		if (t->writer_active)
			return;
	}
	if (ev->type == READER_DAMAGED)
		t->damaged_run++;
	if (ev->type == READER_META) {
		fprintf(stderr, "seglog %s: %s/%s:%" PRIu64 ": %s\n", t->cmd, t->dir, ev->file,
			ev->offset, ev->reason);
		return;
	}
	if (!tail_first_warning(t, ev->file, ev->offset))
		return;
	switch (ev->type) {
	case READER_DAMAGED:
		fprintf(stderr, "seglog %s: %s/%s:%" PRIu64 ": damaged line skipped: %s\n", t->cmd,
			t->dir, ev->file, ev->offset, ev->reason);
		t->problems++;
		break;
	case READER_BAD_SEGMENT:
		fprintf(stderr, "seglog %s: %s/%s:0: segment skipped: %s\n", t->cmd, t->dir,
			ev->file, ev->reason);
		t->problems++;
		break;
	case READER_BAD_DIR_ID:
		fprintf(stderr, "seglog %s: %s/%s: damaged (%s); segment headers are checked "
			"against the first one read instead\n", t->cmd, t->dir, ev->file, ev->reason);
		t->problems++;
		break;
	case READER_GAP:
		if (ev->gap_last - ev->gap_first < t->damaged_run)
			break; /* the damaged lines just reported held them */
		if (ev->gap_at_start) {
			/* the history simply starts later, unless a start was asked
			 * for or records were read already */
			if (t->explicit_after || t->printed_any)
				fprintf(stderr,
					"seglog %s: note: records %" PRIu64 "..%" PRIu64
					" were removed by retention before they could be shown\n",
					t->cmd, ev->gap_first, ev->gap_last);
			break;
		}
		fprintf(stderr, "seglog %s: %s/%s:%" PRIu64 ": seqs %" PRIu64 "..%" PRIu64
			" missing before this record (deleted or damaged)\n", t->cmd, t->dir,
			ev->file, ev->offset, ev->gap_first, ev->gap_last);
		t->problems++;
		break;
	default:
		break;
	}
}

/* Reads and prints until the reader has nothing more for now (0), or
 * TAIL_STOP, or an error. */
static int
tail_read(struct tail *t)
{
	struct reader_event ev;

	for (;;) {
		int k;
		if (tail_signalled)
			return TAIL_STOP;
		k = reader_next(t->rd, &ev);
		if (k <= 0)
			return k;
		if (ev.type != READER_RECORD) {
			tail_problem(t, &ev);
			continue;
		}
		t->damaged_run = 0;
		t->printed_any = true;
		if (filter_past_end(&t->filter, &ev.rec))
			return TAIL_STOP;
		if (!filter_match(&t->filter, &ev.rec))
			continue;
		k = tail_print(t, &ev.rec);
		if (k != 0)
			return k;
	}
}

/* One window [lo, hi) of tail -n: its matching records, formatted, in
 * order.  *ret_start is set when the window reaches the oldest record
 * there is or wanted (retention gap, --since). */
static int
tail_window(struct tail *t, uint64_t lo, uint64_t hi, struct tail_line **v, size_t *n,
	    size_t *cap, bool *ret_start)
{
	struct reader_event ev;
	bool first = true;
	int k = reader_seek_seq(t->rd, lo);

	if (k < 0)
		return k;
	while ((k = reader_next(t->rd, &ev)) > 0) {
		if (tail_signalled)
			return TAIL_STOP;
		if (ev.type == READER_GAP && ev.gap_at_start)
			*ret_start = true;
		if (ev.type != READER_RECORD) {
			tail_problem(t, &ev);
			continue;
		}
		t->damaged_run = 0;
		if (ev.rec.seq >= hi)
			break;
		if (first && t->filter.have_since && ev.rec.time_us < t->filter.since_us)
			*ret_start = true;
		first = false;
		if (!filter_match(&t->filter, &ev.rec))
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? 2 * *cap : 64;
			struct tail_line *nv = realloc(*v, nc * sizeof(**v));
			if (!nv)
				return -ENOMEM;
			*v = nv;
			*cap = nc;
		}
		/* output_max() is the worst case (about 2 KiB for a short record):
		 * kept at that, 64K lines would take 128 MB; the buffer is cut
		 * down to the line (seen: tail -n 60000 at 118 MB RSS, now 7.5 MB) */
		char *text = malloc(output_max(&ev.rec)), *fit;
		if (!text)
			return -ENOMEM;
		size_t len = output_format(&t->out, &ev.rec, text);
		fit = realloc(text, len ? len : 1);
		(*v)[(*n)++] = (struct tail_line){ ev.rec.seq, fit ? fit : text, len };
	}
	return k < 0 ? k : 0;
}

struct tail_lines {
	struct tail_line *v;
	size_t n, cap;
};

static void
tail_lines_clear(struct tail_lines *w, size_t n_windows)
{
	for (size_t i = 0; i < n_windows; i++) {
		for (size_t j = 0; j < w[i].n; j++)
			free(w[i].v[j].text);
		free(w[i].v);
	}
}

/* tail -n N: the last N matching records, found by reading windows of
 * seqs backwards from the newest (N seqs, then 4 times more each time)
 * until N matched, so never the whole history when they are near the
 * end.  Sets *ret_next to the seq to follow from. */
static int
tail_last(struct tail *t, uint64_t want, uint64_t *ret_next)
{
	struct tail_lines w[48] = { 0 }; /* sizes grow 4x: 48 windows span 2^64 */
	size_t n_windows = 0, total = 0, skip;
	uint64_t last, floor = t->filter.after_seq + 1, hi, size = want ? want : 1;
	bool start = false;
	int k = reader_last_seq(t->rd, &last);

	if (k < 0)
		return k;
	*ret_next = last >= floor ? last + 1 : floor;
	if (last < floor || want == 0)
		return 0;
	for (hi = last + 1; !start && total < want && hi > floor && n_windows < ELEMENTSOF(w);) {
		uint64_t lo = hi - floor > size ? hi - size : floor;
		struct tail_lines *cur = &w[n_windows++];

		k = tail_window(t, lo, hi, &cur->v, &cur->n, &cur->cap, &start);
		if (k != 0) {
			tail_lines_clear(w, n_windows);
			return k;
		}
		total += cur->n;
		hi = lo;
		size = size > UINT64_MAX / 8 ? UINT64_MAX / 2 : size * 4;
	}
	/* the oldest window is the last one read */
	skip = total > want ? total - want : 0;
	for (size_t i = n_windows; i-- > 0 && k == 0;)
		for (size_t j = 0; j < w[i].n && k == 0; j++) {
			if (skip) {
				skip--;
				continue;
			}
			k = tail_emit(t, w[i].v[j].text, w[i].v[j].len, w[i].v[j].seq);
		}
	tail_lines_clear(w, n_windows);
	return k;
}

/* --reverse: the last `want` matching records (all: UINT64_MAX), newest
 * first, window by window backwards from the newest (growing 4x up to
 * TAIL_REVERSE_WINDOW_MAX seqs, each printed as soon as it is read), down
 * to --after-seq, --since or the oldest record. */
static int
tail_reverse(struct tail *t, uint64_t want)
{
	uint64_t last, floor = t->filter.after_seq + 1, hi, size, printed = 0;
	bool start = false;
	int k = reader_last_seq(t->rd, &last);

	if (k < 0)
		return k;
	size = want < TAIL_REVERSE_WINDOW_MAX ? (want ? want : 1) : TAIL_REVERSE_WINDOW_MAX;
	for (hi = last + 1; !start && printed < want && hi > floor;) {
		uint64_t lo = hi - floor > size ? hi - size : floor;
		struct tail_lines w = { 0 };

		k = tail_window(t, lo, hi, &w.v, &w.n, &w.cap, &start);
		for (size_t j = w.n; k == 0 && j-- > 0 && printed < want; printed++)
			k = tail_emit(t, w.v[j].text, w.v[j].len, w.v[j].seq);
		tail_lines_clear(&w, 1);
		if (k != 0)
			return k;
		hi = lo;
		size = size * 4 < TAIL_REVERSE_WINDOW_MAX ? size * 4 : TAIL_REVERSE_WINDOW_MAX;
	}
	return 0;
}

/* --cursor-file: opens it (its directory, never the data directory) and
 * reads where to resume: 1 and *ret_seq if it exists, 0 if not.  A
 * cursor of another directory is refused, here if the directory's id is
 * known and else by the reader once it is. */
static int
tail_cursor_open(struct tail *t, uint64_t *ret_seq)
{
	char want[2 * RECORD_DIR_ID_LEN + 1], got[2 * RECORD_DIR_ID_LEN + 1];
	uint8_t id[RECORD_DIR_ID_LEN];
	struct cursor c;
	int k;

	*ret_seq = 0;
	k = cursor_file_open(&t->cursor, t->cursor_path, t->dir, TAIL_CURSOR_PERIOD_US);
	if (k == 0)
		k = cursor_file_load(&t->cursor, &c);
	if (k == -ENOENT)
		return 0;
	if (k < 0) {
		errno = -k;
		fprintf(stderr, "seglog %s: cursor file %s: %s\n", t->cmd, t->cursor_path,
			k == -EBADMSG ? "does not hold a seglog cursor (\"seglog-cursor 1 DIR-ID "
					"SEQ\"); remove it to start over"
			: k == -EROFS ? "must not be in the data directory"
				      : strerror(-k));
		return k;
	}
	reader_require_dir_id(t->rd, c.dir_id);
	if (reader_dir_id(t->rd, id) && cursor_check_dir(&c, id) < 0) {
		segdir_id_to_hex(c.dir_id, got);
		segdir_id_to_hex(id, want);
		fprintf(stderr, "seglog %s: cursor file %s belongs to data directory %s, not to %s "
			"(id %s); refusing to resume from its seq %" PRIu64 "\n", t->cmd,
			t->cursor_path, got, t->dir, want, c.seq);
		return -EXDEV;
	}
	*ret_seq = c.seq;
	return 1;
}

/* The reader met a directory whose id is not the cursor's. */
static void
tail_cursor_refused(struct tail *t)
{
	char want[2 * RECORD_DIR_ID_LEN + 1] = "unknown", got[2 * RECORD_DIR_ID_LEN + 1];
	uint8_t id[RECORD_DIR_ID_LEN];

	segdir_id_to_hex(t->cursor.saved.dir_id, got);
	if (reader_dir_id(t->rd, id))
		segdir_id_to_hex(id, want);
	fprintf(stderr, "seglog %s: cursor file %s belongs to data directory %s, not to %s "
		"(id %s); refusing to resume from it\n", t->cmd, t->cursor_path, got, t->dir, want);
}

/* -f: reads whenever inotify says the directory changed (a write to
 * `current`, a rename, a new `current`), with a timed poll as a safety
 * net; stops on SIGINT/SIGTERM, or when stdout's reader went away. */
static int
tail_follow(struct tail *t)
{
	_cleanup_close_ int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	struct stat st;
	bool out_pipe = fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) ||
							    S_ISSOCK(st.st_mode));
	sigset_t block, old;
	int timeout = TAIL_POLL_NO_INOTIFY_MS;

	if (ino >= 0 &&
	    inotify_add_watch(ino, t->dir, IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY |
						  IN_CLOSE_WRITE | IN_DELETE | IN_DELETE_SELF |
						  IN_MOVE_SELF) >= 0)
		timeout = TAIL_POLL_MS;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	for (;;) {
		char evbuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		struct pollfd p[2] = { { .fd = ino, .events = POLLIN },
				       { .fd = out_pipe ? STDOUT_FILENO : -1, .events = 0 } };
		struct timespec ts = { timeout / 1000, (long)(timeout % 1000) * 1000000 };
		int k, due;

		/* drain the events first: a change after the read below wakes us */
		while (ino >= 0 && read(ino, evbuf, sizeof(evbuf)) > 0)
			;
		k = tail_read(t);
		if (k < 0)
			return k;
		if (k == 0)
			k = tail_flush(t);
		if (k != 0)
			return k < 0 ? k : 0;
		(void)tail_cursor_save(t, false);
		due = tail_cursor_due_ms(t);
		if (due >= 0 && due < timeout) /* wake up when the cursor is due */
			ts = (struct timespec){ due / 1000, (long)(due % 1000) * 1000000 };
		sigprocmask(SIG_BLOCK, &block, &old);
		if (tail_signalled) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			return 0;
		}
		k = ppoll(p, 2, &ts, &old);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (k > 0 && (p[1].revents & (POLLERR | POLLHUP)))
			return 0; /* `seglog tail -f | head`: head is gone */
	}
}

/* --show-cursor: the cursor of the last record written out, as
 * journalctl prints it ("-- cursor: ..."); the text after "-- cursor: "
 * is what a --cursor-file holds. */
static void
tail_show_cursor(struct tail *t)
{
	struct cursor c = { .seq = t->printed_seq };
	char buf[CURSOR_LEN_MAX + 1];
	size_t n;

	if (t->printed_seq == 0 || !reader_dir_id(t->rd, c.dir_id))
		return;
	n = cursor_format(&c, buf);
	printf("-- cursor: %.*s", (int)n, buf);
	fflush(stdout);
}


/* The run after the options: where to start, then read (and follow). */
static int
tail_run(struct tail *t, const struct tail_args *a)
{
	bool is_cat = strcmp(t->cmd, "cat") == 0;
	bool from_start = t->explicit_after || t->filter.have_since;
	uint64_t next = 0;
	int k = 0;

	if (a->reverse)
		return tail_reverse(t, a->lines_set ? (a->all ? UINT64_MAX : a->lines)
				    : !is_cat && !from_start ? 10 : UINT64_MAX);
	/* tail: the last 10, unless told where to start; cat: all; -n wins */
	if (a->lines_set ? !a->all : !is_cat && !from_start) {
		k = tail_last(t, a->lines_set ? a->lines : 10, &next);
		if (k != 0 || !t->follow)
			return k;
		k = reader_seek_seq(t->rd, next);
	} else if (t->explicit_after) {
		/* from after_seq + 1 even at 0: a gap before it is then news */
		k = reader_seek_seq(t->rd, t->filter.after_seq + 1);
	} else if (t->filter.have_since) {
		k = reader_seek_time(t->rd, t->filter.since_us);
	}
	if (k != 0)
		return k;
	if (t->follow)
		return tail_follow(t);
	return tail_read(t);
}

static void
tail_clear(struct tail *t)
{
	free(t->obuf);
	free(t->warned);
	filter_done(&t->filter);
	t->rd = reader_free(t->rd);
	cursor_file_close(&t->cursor);
}

/* The output: colour (--color, else a terminal without $NO_COLOR and not
 * TERM=dumb), --utc, and this host's name, which -o short gives records
 * that claim none. */
static void
tail_setup_output(struct tail *t, const struct tail_args *a)
{
	bool tty = isatty(STDOUT_FILENO);
	const char *term = getenv("TERM");
	char host[RECORD_HOST_MAX + 1];

	output_init(&t->out, a->mode,
		    a->color == 1 || (a->color == -1 && tty && !getenv("NO_COLOR") &&
				      !(term && !strcmp(term, "dumb"))),
		    tty);
	t->out.utc = a->utc;
	if (gethostname(host, sizeof(host)) == 0) {
		host[RECORD_HOST_MAX] = '\0';
		output_set_local_host(&t->out, host);
	}
}

/* --cursor-file: start after the seq it holds.  -errno (said) if it
 * cannot be used. */
static int
tail_resume(struct tail *t)
{
	uint64_t seq = 0;
	int k;

	if (!t->cursor_path)
		return 0;
	k = tail_cursor_open(t, &seq);
	if (k < 0)
		return k;
	if (seq > t->filter.after_seq)
		t->filter.after_seq = seq;
	if (k > 0) /* resume after it, even at 0: from the start */
		t->explicit_after = true;
	return 0;
}

/* After tail_run() returned k: says what went wrong, flushes, stores the
 * cursor, shows it if asked, and closes the pager.  The exit status. */
static int
tail_finish(struct tail *t, const struct tail_args *a, const char *dir, int k)
{
	if (k == -EXDEV && t->cursor_path)
		tail_cursor_refused(t);
	else if (k < 0 && !t->epipe)
		fprintf(stderr, "seglog %s: reading %s: %s\n", t->cmd, dir, strerror(-k));
	if (k >= 0 && !t->epipe)
		k = tail_flush(t) < 0 ? -EIO : k;
	if (tail_cursor_save(t, true) < 0)
		k = -EIO;
	if (a->show_cursor && !t->epipe)
		tail_show_cursor(t);
	pager_close(&t->pager);
	return k < 0 || t->problems ? CLIENT_EXIT_FAILURE : CLIENT_EXIT_OK;
}

int
cmd_tail(const struct client_opts *o, int argc, char **argv)
{
	_cleanup_(tail_clear) struct tail t = { .cmd = argv[0], .dir = o->dir,
						.writer_active = -1, .cursor = CURSOR_FILE_INIT };
	struct tail_args a = { .mode = OUTPUT_SHORT, .color = -1 };
	struct sigaction sa = { .sa_handler = tail_signalcb };
	int k;

	filter_init(&t.filter);
	k = tail_parse(&t, &a, argc, argv);
	if (k != 0)
		return k > 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_USAGE;
	tail_setup_output(&t, &a);
	k = reader_open(o->dir, &t.rd);
	if (k < 0) {
		fprintf(stderr, "seglog %s: cannot read data directory %s: %s\n", t.cmd, o->dir,
			strerror(-k));
		return CLIENT_EXIT_FAILURE;
	}
	if (tail_resume(&t) < 0)
		return CLIENT_EXIT_FAILURE;
	t.obuf = malloc(TAIL_OUT_BUF);
	if (!t.obuf)
		return CLIENT_EXIT_FAILURE;
	t.ocap = TAIL_OUT_BUF;
	reader_set_follow(t.rd, t.follow);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (!t.follow && !a.no_pager && pager_open(&t.pager) < 0)
		fprintf(stderr, "seglog %s: cannot start a pager: %s; writing directly\n", t.cmd,
			strerror(errno));
	return tail_finish(&t, &a, o->dir, tail_run(&t, &a));
}
