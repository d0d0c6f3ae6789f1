/* The shipper's delivery ledger: the cursor advances only over the
 * contiguous run of confirmed deliveries, whatever order reports come in;
 * a failure stops it; a reset makes old tokens stale. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "shipq.h"
#include "testutil.h"

static struct shipq *
new_q(size_t cap, uint64_t confirmed)
{
	struct shipq *q = NULL;
	ck_assert_int_eq(shipq_new(cap, confirmed, &q), 0);
	ck_assert_ptr_nonnull(q);
	return q;
}

static uintptr_t
push(struct shipq *q, uint64_t seq)
{
	uintptr_t t = 0;
	ck_assert_int_eq(shipq_push(q, seq, 1000 + seq, 10, &t), 0);
	return t;
}

START_TEST(test_new_rejects_bad_cap)
{
	struct shipq *q = NULL;
	ck_assert_int_eq(shipq_new(0, 0, &q), -EINVAL);
	ck_assert_ptr_null(q);
}
END_TEST

START_TEST(test_starts_at_cursor)
{
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 41);
	ck_assert_uint_eq(shipq_confirmed(q), 41);
	ck_assert_uint_eq(shipq_last_pushed(q), 41);
	ck_assert_uint_eq(shipq_in_flight(q), 0);
	ck_assert(!shipq_failed(q));
	ck_assert(!shipq_full(q));
}
END_TEST

START_TEST(test_in_order_reports_advance)
{
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 0);
	uintptr_t a = push(q, 1), b = push(q, 2), c = push(q, 3);
	ck_assert_int_eq(shipq_report(q, a, true), SHIPQ_ADVANCED);
	ck_assert_uint_eq(shipq_confirmed(q), 1);
	ck_assert_int_eq(shipq_report(q, b, true), SHIPQ_ADVANCED);
	ck_assert_int_eq(shipq_report(q, c, true), SHIPQ_ADVANCED);
	ck_assert_uint_eq(shipq_confirmed(q), 3);
	ck_assert_uint_eq(shipq_in_flight(q), 0);
	ck_assert_uint_eq(shipq_in_flight_bytes(q), 0);
}
END_TEST

START_TEST(test_out_of_order_waits_for_gap)
{
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 0);
	uintptr_t a = push(q, 1), b = push(q, 2), c = push(q, 3);
	ck_assert_int_eq(shipq_report(q, c, true), SHIPQ_NOTED);
	ck_assert_int_eq(shipq_report(q, b, true), SHIPQ_NOTED);
	ck_assert_uint_eq(shipq_confirmed(q), 0);
	ck_assert_uint_eq(shipq_in_flight(q), 3);
	ck_assert_int_eq(shipq_report(q, a, true), SHIPQ_ADVANCED);
	ck_assert_uint_eq(shipq_confirmed(q), 3);
	ck_assert_uint_eq(shipq_confirmed_time(q), 1003); /* the cursor's record's time */
	ck_assert_uint_eq(shipq_in_flight(q), 0);
}
END_TEST

START_TEST(test_seq_gaps_are_fine)
{
	/* retention or a damaged line: seqs need not be consecutive */
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 5);
	uintptr_t a = push(q, 10), b = push(q, 20);
	ck_assert_int_eq(shipq_report(q, a, true), SHIPQ_ADVANCED);
	ck_assert_uint_eq(shipq_confirmed(q), 10);
	ck_assert_int_eq(shipq_report(q, b, true), SHIPQ_ADVANCED);
	ck_assert_uint_eq(shipq_confirmed(q), 20);
}
END_TEST

START_TEST(test_push_rejects_old_seq)
{
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 5);
	uintptr_t t = 0;
	ck_assert_int_eq(shipq_push(q, 5, 0, 1, &t), -EINVAL);
	ck_assert_int_eq(shipq_push(q, 4, 0, 1, &t), -EINVAL);
	push(q, 6);
	ck_assert_int_eq(shipq_push(q, 6, 0, 1, &t), -EINVAL);
	ck_assert_uint_eq(shipq_in_flight(q), 1);
}
END_TEST

START_TEST(test_failure_blocks_advance)
{
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 0);
	uintptr_t a = push(q, 1), b = push(q, 2), c = push(q, 3);
	ck_assert_int_eq(shipq_report(q, a, true), SHIPQ_ADVANCED);
	ck_assert_int_eq(shipq_report(q, b, false), SHIPQ_NOTED);
	ck_assert(shipq_failed(q));
	ck_assert_int_eq(shipq_report(q, c, true), SHIPQ_NOTED);
	ck_assert_uint_eq(shipq_confirmed(q), 1); /* never past the failed record */
	ck_assert_uint_eq(shipq_in_flight(q), 2);
}
END_TEST

START_TEST(test_unreported_counts_reports_not_confirmations)
{
	/* a drain after a permanent error waits for every report, also those
	 * behind the failed record, which stay in flight */
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 0);
	uintptr_t a = push(q, 1), b = push(q, 2), c = push(q, 3), d;
	ck_assert_uint_eq(shipq_unreported(q), 3);
	ck_assert_int_eq(shipq_report(q, b, false), SHIPQ_NOTED);
	ck_assert_uint_eq(shipq_unreported(q), 2);
	ck_assert_int_eq(shipq_report(q, c, true), SHIPQ_NOTED);
	ck_assert_int_eq(shipq_report(q, c, true), SHIPQ_STALE); /* counted once */
	ck_assert_uint_eq(shipq_unreported(q), 1);
	ck_assert_int_eq(shipq_report(q, a, true), SHIPQ_ADVANCED);
	ck_assert_uint_eq(shipq_unreported(q), 0);
	ck_assert_uint_eq(shipq_in_flight(q), 2);
	d = push(q, 4);
	ck_assert_uint_eq(shipq_unreported(q), 1);
	ck_assert_int_eq(shipq_cancel_last(q, d), 0);
	ck_assert_uint_eq(shipq_unreported(q), 0);
	push(q, 5);
	shipq_reset(q);
	ck_assert_uint_eq(shipq_unreported(q), 0);
}
END_TEST

START_TEST(test_failure_of_first_blocks_everything)
{
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 7);
	uintptr_t a = push(q, 8), b = push(q, 9);
	ck_assert_int_eq(shipq_report(q, b, true), SHIPQ_NOTED);
	ck_assert_int_eq(shipq_report(q, a, false), SHIPQ_NOTED);
	ck_assert_uint_eq(shipq_confirmed(q), 7);
}
END_TEST

START_TEST(test_reset_makes_tokens_stale)
{
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 0);
	uintptr_t a = push(q, 1), b = push(q, 2), c = push(q, 3), d;
	ck_assert_int_eq(shipq_report(q, a, true), SHIPQ_ADVANCED);
	ck_assert_int_eq(shipq_report(q, b, false), SHIPQ_NOTED);
	shipq_reset(q);
	ck_assert(!shipq_failed(q));
	ck_assert_uint_eq(shipq_in_flight(q), 0);
	ck_assert_uint_eq(shipq_in_flight_bytes(q), 0);
	ck_assert_uint_eq(shipq_last_pushed(q), 1);
	ck_assert_int_eq(shipq_report(q, c, true), SHIPQ_STALE);
	ck_assert_uint_eq(shipq_confirmed(q), 1);
	/* resend from the cursor: seq 2 again */
	d = push(q, 2);
	ck_assert_int_eq(shipq_report(q, c, true), SHIPQ_STALE);
	ck_assert_int_eq(shipq_report(q, b, true), SHIPQ_STALE);
	ck_assert_int_eq(shipq_report(q, d, true), SHIPQ_ADVANCED);
	ck_assert_uint_eq(shipq_confirmed(q), 2);
}
END_TEST

START_TEST(test_duplicate_report_is_stale)
{
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 0);
	uintptr_t a = push(q, 1), b = push(q, 2);
	ck_assert_int_eq(shipq_report(q, b, true), SHIPQ_NOTED);
	ck_assert_int_eq(shipq_report(q, b, true), SHIPQ_STALE);
	ck_assert_int_eq(shipq_report(q, b, false), SHIPQ_STALE);
	ck_assert(!shipq_failed(q));
	ck_assert_int_eq(shipq_report(q, a, true), SHIPQ_ADVANCED);
	ck_assert_int_eq(shipq_report(q, a, true), SHIPQ_STALE);
	ck_assert_uint_eq(shipq_confirmed(q), 2);
}
END_TEST

START_TEST(test_unissued_token_is_stale)
{
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 0);
	uintptr_t a = push(q, 1);
	ck_assert_int_eq(shipq_report(q, a + 1, true), SHIPQ_STALE);
	ck_assert_int_eq(shipq_report(q, a + 1000, true), SHIPQ_STALE);
	ck_assert_uint_eq(shipq_in_flight(q), 1);
}
END_TEST

START_TEST(test_full_and_backpressure)
{
	_cleanup_(shipq_freep) struct shipq *q = new_q(3, 0); /* rounded up to 4 */
	uintptr_t t[4], x = 0;
	for (int i = 0; i < 4; i++)
		t[i] = push(q, (uint64_t)i + 1);
	ck_assert(shipq_full(q));
	ck_assert_int_eq(shipq_push(q, 5, 0, 1, &x), -ENOBUFS);
	ck_assert_int_eq(shipq_report(q, t[1], true), SHIPQ_NOTED);
	ck_assert(shipq_full(q)); /* the front is still in flight */
	ck_assert_int_eq(shipq_report(q, t[0], true), SHIPQ_ADVANCED);
	ck_assert(!shipq_full(q));
	ck_assert_uint_eq(shipq_in_flight(q), 2);
	push(q, 5);
	push(q, 6);
	ck_assert(shipq_full(q));
}
END_TEST

START_TEST(test_ring_wraps_many_times)
{
	/* 10,000 records through a ring of 8, reports in reverse within each
	 * window of 8: the confirmed seq always equals the window's end */
	_cleanup_(shipq_freep) struct shipq *q = new_q(8, 0);
	uint64_t seq = 0;
	for (int w = 0; w < 1250; w++) {
		uintptr_t t[8];
		for (int i = 0; i < 8; i++)
			t[i] = push(q, ++seq);
		for (int i = 7; i > 0; i--)
			ck_assert_int_eq(shipq_report(q, t[i], true), SHIPQ_NOTED);
		ck_assert_uint_eq(shipq_confirmed(q), seq - 8);
		ck_assert_int_eq(shipq_report(q, t[0], true), SHIPQ_ADVANCED);
		ck_assert_uint_eq(shipq_confirmed(q), seq);
	}
	ck_assert_uint_eq(seq, 10000);
}
END_TEST

START_TEST(test_random_order_model)
{
	/* a model check: random report order and random failures; the
	 * confirmed seq is always the end of the confirmed prefix */
	enum { N = 64 };
	unsigned seed = 12345;
	for (int round = 0; round < 200; round++) {
		_cleanup_(shipq_freep) struct shipq *q = new_q(N, 100);
		uintptr_t t[N];
		bool done[N] = { false }, bad[N] = { false };
		for (int i = 0; i < N; i++)
			t[i] = push(q, 101 + (uint64_t)i * 2);
		for (int k = 0; k < 3 * N; k++) {
			int i = (int)(rand_r(&seed) % N);
			bool ok = rand_r(&seed) % 50 != 0;
			enum shipq_report_result res = shipq_report(q, t[i], ok);
			if (done[i] || bad[i]) {
				ck_assert_int_eq(res, SHIPQ_STALE);
				continue;
			}
			ck_assert_int_ne(res, SHIPQ_STALE);
			(ok ? done : bad)[i] = true;
			int p = 0;
			while (p < N && done[p])
				p++;
			ck_assert_uint_eq(shipq_confirmed(q), p ? 101 + (uint64_t)(p - 1) * 2 : 100);
			ck_assert_uint_eq(shipq_in_flight(q), (size_t)(N - p));
			ck_assert_uint_eq(shipq_in_flight_bytes(q), (uint64_t)(N - p) * 10);
		}
	}
}
END_TEST

START_TEST(test_cancel_last)
{
	_cleanup_(shipq_freep) struct shipq *q = new_q(4, 3);
	uintptr_t a = push(q, 4), b = push(q, 5), c;
	ck_assert_int_eq(shipq_cancel_last(q, a), -ENOENT); /* not the last */
	ck_assert_int_eq(shipq_cancel_last(q, b), 0);
	ck_assert_uint_eq(shipq_last_pushed(q), 4);
	ck_assert_uint_eq(shipq_in_flight(q), 1);
	ck_assert_uint_eq(shipq_in_flight_bytes(q), 10);
	ck_assert_int_eq(shipq_report(q, b, true), SHIPQ_STALE);
	c = push(q, 5); /* the same record again once there is room */
	ck_assert_int_eq(shipq_cancel_last(q, c), 0);
	ck_assert_int_eq(shipq_cancel_last(q, a), 0);
	ck_assert_uint_eq(shipq_last_pushed(q), 3);
	ck_assert_int_eq(shipq_cancel_last(q, a), -ENOENT);
	c = push(q, 4);
	ck_assert_int_eq(shipq_report(q, c, true), SHIPQ_ADVANCED);
	ck_assert_uint_eq(shipq_confirmed(q), 4);
}
END_TEST

START_TEST(test_backoff)
{
	ck_assert_uint_eq(shipq_backoff_ms(0), SHIPQ_BACKOFF_MIN_MS);
	ck_assert_uint_eq(shipq_backoff_ms(1), 100);
	ck_assert_uint_eq(shipq_backoff_ms(2), 200);
	ck_assert_uint_eq(shipq_backoff_ms(5), 1600);
	ck_assert_uint_eq(shipq_backoff_ms(20), SHIPQ_BACKOFF_MAX_MS);
	ck_assert_uint_eq(shipq_backoff_ms(1000000), SHIPQ_BACKOFF_MAX_MS);
}
END_TEST

static Suite *
shipq_suite(void)
{
	Suite *s = suite_create("shipq");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_new_rejects_bad_cap);
	tcase_add_test(tc, test_starts_at_cursor);
	tcase_add_test(tc, test_in_order_reports_advance);
	tcase_add_test(tc, test_out_of_order_waits_for_gap);
	tcase_add_test(tc, test_seq_gaps_are_fine);
	tcase_add_test(tc, test_push_rejects_old_seq);
	tcase_add_test(tc, test_failure_blocks_advance);
	tcase_add_test(tc, test_unreported_counts_reports_not_confirmations);
	tcase_add_test(tc, test_failure_of_first_blocks_everything);
	tcase_add_test(tc, test_reset_makes_tokens_stale);
	tcase_add_test(tc, test_duplicate_report_is_stale);
	tcase_add_test(tc, test_unissued_token_is_stale);
	tcase_add_test(tc, test_full_and_backpressure);
	tcase_add_test(tc, test_ring_wraps_many_times);
	tcase_add_test(tc, test_random_order_model);
	tcase_add_test(tc, test_cancel_last);
	tcase_add_test(tc, test_backoff);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(shipq_suite());
}
