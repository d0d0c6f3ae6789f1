/* Fuzzes the recovery tail scanner (src/format/recover.h).  The input is a small
 * program that builds the tail of a segment: valid record lines with the
 * next seq (or a seq off by the amount the input says), raw bytes, a bit
 * flipped, bytes cut off the end, a LF, in format version 1 or 2 (bit 3
 * of the first byte).  Mode 0 of the first byte takes
 * the rest as the tail bytes as they are instead.  Properties:
 *
 * - base <= cut <= end, cut on a line boundary, counts consistent;
 * - with the whole window in the unsynced zone there is no "damage";
 * - scanning again just the bytes before cut, with nothing unsynced,
 *   finds the same records and the same cut (recovery of a recovered
 *   file keeps everything);
 * - the oracle for lost records (programs only): the program knows which
 *   lines it wrote with the real encoder, so it knows the run of valid
 *   lines with consecutive seqs from the start of the tail up to the first
 *   damage (raw bytes, a flipped bit, a cut, a wrong seq, an empty line).
 *   The cut is never before the end of that run, every line of it counts
 *   as a record (the first one skipped when the window starts mid-line),
 *   first_seq is its first seq, and a tail without any damage is kept
 *   whole: cut at the end, nothing damaged, last_seq its last seq.  A
 *   scanner that keeps nothing, or cuts at a valid line, fails here. */
#include "config.h"

#include "cleanup.h"
#include "record.h"
#include "recover.h"
#include "fuzz.h"

enum {
	FUZZ_TAIL_MAX = 1 << 16,
	FUZZ_GOOD_MAX = 2048, /* lines of the valid run (a line is > 60 bytes) */
};

/* The tail being built and the oracle's valid run: good[i] is the end
 * offset of its i-th line, good_seq[i] that line's seq.  open says the run
 * reaches the end of the tail with no damage yet, so that a valid line
 * with the next seq extends it. */
struct tail {
	char *buf;
	size_t len;
	size_t n_good;
	size_t good[FUZZ_GOOD_MAX];
	uint64_t good_seq[FUZZ_GOOD_MAX];
	bool open;
	unsigned version; /* the segment's format version, 1 or 2 */
};

/* Appends up to n bytes; returns whether all of them fit. */
static bool
tail_put(struct tail *t, const void *p, size_t n)
{
	bool all = n <= FUZZ_TAIL_MAX - t->len;

	if (!all)
		n = FUZZ_TAIL_MAX - t->len;
	memcpy(t->buf + t->len, p, n);
	t->len += n;
	return all;
}

/* Damage at offset pos (or at the end): the run ends at the last line
 * that ends at or before pos, and is closed for good. */
static void
tail_damage(struct tail *t, size_t pos)
{
	while (t->n_good && t->good[t->n_good - 1] > pos)
		t->n_good--;
	t->open = false;
}

/* Appends an encoded line of the given seq, extending the run if it is
 * still open, the whole line fit and its seq follows. */
static void
tail_line(struct tail *t, const char *line, size_t n, uint64_t seq)
{
	bool extends = t->open && t->n_good < FUZZ_GOOD_MAX &&
		       (t->n_good == 0 || seq == t->good_seq[t->n_good - 1] + 1);

	if (tail_put(t, line, n) && extends) {
		t->good[t->n_good] = t->len;
		t->good_seq[t->n_good++] = seq;
	} else {
		tail_damage(t, t->len);
	}
}

/* Runs the input's program, appending to t. */
static void
tail_build(struct fuzz_in *in, struct tail *t)
{
	uint64_t seq = fuzz_take(in, 2) + 1, time_us = 1795510955123456u;
	char line[512];

	while (in->n) {
		unsigned op = (unsigned)fuzz_take(in, 1);
		switch (op % 8) {
		case 0:
		case 1:
		case 2: { /* a valid line with the next seq */
			size_t mlen = (size_t)fuzz_take(in, 1) % 100;
			char msg[100];
			memset(msg, 'a' + (int)(seq % 26), mlen);
			struct record r = { .seq = seq++, .time_us = time_us++, .pid = 1,
					    .facility = 1, .severity = 6, .tag = "t",
					    .tag_len = 1, .msg = msg, .msg_len = mlen,
					    .claimed_pid = RECORD_NO_CLAIMED_PID };
			tail_line(t, line, record_encode_version(&r, t->version, line), r.seq);
			break;
		}
		case 3: { /* a valid line with a seq off by -8 .. +7 */
			uint64_t s = seq + (fuzz_take(in, 1) % 16) - 8;
			struct record r = { .seq = s ? s : 1, .time_us = time_us++, .pid = 1,
					    .facility = 1, .severity = 6,
					    .claimed_pid = RECORD_NO_CLAIMED_PID };
			tail_line(t, line, record_encode_version(&r, t->version, line), r.seq);
			break;
		}
		case 4: { /* raw bytes: damage, even if they happen to be valid */
			size_t n = (size_t)fuzz_take(in, 1) % 32;
			if (n > in->n)
				n = in->n;
			if (n)
				tail_damage(t, t->len);
			tail_put(t, in->p, n);
			in->p += n;
			in->n -= n;
			break;
		}
		case 5: /* flip one bit */
			if (t->len) {
				size_t pos = (size_t)fuzz_take(in, 2) % t->len;
				t->buf[pos] ^= (char)(1u << (fuzz_take(in, 1) % 8));
				tail_damage(t, pos);
			}
			break;
		case 6: { /* cut bytes off the end (the seqs cut are not reused) */
			size_t n = (size_t)fuzz_take(in, 1) % 64;
			t->len -= n < t->len ? n : t->len;
			if (n)
				tail_damage(t, t->len);
			break;
		}
		default: /* an empty line is damage */
			tail_put(t, "\n", 1);
			tail_damage(t, t->len);
			break;
		}
	}
}

static size_t
count_lf(const char *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

/* The oracle (see the head comment) for a tail built by a program. */
static void
fuzz_oracle(const struct tail *t, const struct recover_result *r, uint64_t base,
	    bool at_line_start)
{
	size_t first = at_line_start ? 0 : 1; /* the first line of the run scanned */

	if (t->n_good == 0)
		return;
	FUZZ_CHECK(r->cut >= base + t->good[t->n_good - 1]);
	if (t->n_good > first) {
		FUZZ_CHECK(r->records >= t->n_good - first);
		FUZZ_CHECK(r->have_last && r->first_seq == t->good_seq[first]);
	}
	if (t->open && t->good[t->n_good - 1] == t->len) {
		FUZZ_CHECK(r->cut == base + t->len && r->damaged == 0);
		FUZZ_CHECK(r->records == t->n_good - first);
		if (t->n_good > first)
			FUZZ_CHECK(r->last_seq == t->good_seq[t->n_good - 1]);
	}
}

static void
fuzz_scan(unsigned version, const char *data, size_t len, uint64_t base, bool at_line_start,
	  uint64_t unsynced, const struct tail *t)
{
	_cleanup_free_ char *buf = fuzz_dup(data, len);
	struct recover_result r, again;
	size_t skip = 0;

	recover_scan(version, buf, len, base, at_line_start, unsynced, &r);
	if (!at_line_start) {
		const char *nl = memchr(buf, '\n', len);
		skip = nl ? (size_t)(nl - buf) + 1 : len;
	}
	FUZZ_CHECK(r.cut >= base + skip && r.cut <= base + len);
	size_t cut = (size_t)(r.cut - base);
	FUZZ_CHECK(cut == skip || buf[cut - 1] == '\n');
	FUZZ_CHECK(r.records + r.damaged <= count_lf(buf + skip, cut - skip));
	FUZZ_CHECK(r.have_last == (r.records > 0));
	if (r.have_last)
		FUZZ_CHECK(r.last_seq >= r.first_seq && r.last_seq - r.first_seq >= r.records - 1);
	if (unsynced >= len)
		FUZZ_CHECK(r.damaged == 0);
	if (t)
		fuzz_oracle(t, &r, base, at_line_start);

	/* the recovered part alone, all of it synced: the same result */
	_cleanup_free_ char *kept = fuzz_dup(buf, cut);
	recover_scan(version, kept, cut, base, at_line_start, 0, &again);
	FUZZ_CHECK(again.cut == r.cut && again.records == r.records && again.damaged == r.damaged);
	FUZZ_CHECK(again.have_last == r.have_last && again.last_seq == r.last_seq &&
		   again.first_seq == r.first_seq && again.last_time_us == r.last_time_us);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned mode = (unsigned)fuzz_take(&in, 1);
	uint64_t unsynced = fuzz_take(&in, 2);
	uint64_t base = fuzz_take(&in, 1) * 1000;
	bool at_line_start = mode & 4;
	unsigned version = mode & 8 ? 1 : 2;

	if (unsynced >= 0xff00)
		unsynced = UINT64_MAX;
	if (mode % 4 == 0) {
		fuzz_scan(version, (const char *)in.p, in.n, base, at_line_start, unsynced, NULL);
		return 0;
	}
	_cleanup_free_ char *buf = fuzz_alloc(FUZZ_TAIL_MAX);
	_cleanup_free_ struct tail *t = fuzz_alloc(sizeof(*t));
	*t = (struct tail){ .buf = buf, .open = true, .version = version };
	tail_build(&in, t);
	fuzz_scan(version, t->buf, t->len, base, at_line_start, unsynced, t);
	return 0;
}
