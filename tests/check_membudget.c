/* The byte budget (basic/membudget.h): charge and release, exhaustion,
 * forced charges, and the claim that keeps the oldest waiter's bytes for
 * it -- the rule docs/design.md's no-deadlock argument rests on. */
#include "config.h"

#include <stdint.h>

#include "membudget.h"
#include "testutil.h"

static const int A, B, C; /* three owners */

START_TEST(test_charge_release)
{
	struct membudget b;

	membudget_init(&b, 1000);
	ck_assert(membudget_charge(&b, &A, 600));
	ck_assert(membudget_charge(&b, &B, 400));
	ck_assert_uint_eq(b.used, 1000);
	ck_assert(!membudget_charge(&b, &C, 1)); /* exhausted: refused, nothing taken */
	ck_assert_uint_eq(b.used, 1000);
	ck_assert_uint_eq(b.refused, 1);
	ck_assert(!membudget_release(&b, 600)); /* no claim to grant */
	ck_assert(membudget_charge(&b, &C, 600));
	ck_assert_uint_eq(b.peak, 1000);
	membudget_release(&b, 400);
	membudget_release(&b, 600);
	ck_assert_uint_eq(b.used, 0);
	ck_assert(membudget_charge(&b, &A, 1000)); /* all of it, exactly */
	ck_assert(!membudget_charge(&b, &A, 1));
}
END_TEST

START_TEST(test_claim_reserves)
{
	struct membudget b;

	membudget_init(&b, 1000);
	ck_assert(membudget_charge(&b, &A, 900));
	ck_assert(!membudget_charge(&b, &B, 500)); /* B needs 500: refused, it claims */
	ck_assert(membudget_claim(&b, &B, 500));
	ck_assert(!membudget_claim(&b, &C, 10)); /* one claim: C queues behind B */
	ck_assert(!membudget_claim_fits(&b));
	/* a small request by someone else may not eat into what B waits for */
	ck_assert(membudget_release(&b, 400)); /* 500 free: exactly B's claim fits */
	ck_assert(membudget_claim_fits(&b));
	ck_assert(!membudget_charge(&b, &C, 10));
	ck_assert(!membudget_charge(&b, &A, 1));
	ck_assert(membudget_charge(&b, &B, 500)); /* B gets it, its claim ends */
	ck_assert(!membudget_claimed(&b));
	ck_assert(membudget_claim(&b, &C, 10)); /* the next in line */
	ck_assert(membudget_release(&b, 10));	/* release grants C's claim */
	ck_assert(membudget_charge(&b, &C, 10));
	ck_assert_uint_eq(b.used, 1000);
}
END_TEST

START_TEST(test_claim_other_room)
{
	struct membudget b;

	/* a claim holds back only what it waits for: others use the rest */
	membudget_init(&b, 1000);
	ck_assert(membudget_charge(&b, &A, 200));
	ck_assert(membudget_claim(&b, &B, 900)); /* B: 900, 800 free */
	ck_assert(!membudget_charge(&b, &C, 1));
	membudget_release(&b, 200);
	ck_assert(membudget_charge(&b, &C, 100)); /* 1000 free: 100 beyond B's 900 */
	ck_assert(!membudget_charge(&b, &C, 1));
	membudget_unclaim(&b, &B); /* B went away */
	ck_assert(!membudget_claimed(&b));
	ck_assert(membudget_charge(&b, &C, 900));
	membudget_unclaim(&b, &C); /* not the claimant: nothing happens */
	ck_assert_uint_eq(b.used, 1000);
}
END_TEST

START_TEST(test_force_and_limit)
{
	struct membudget b;

	membudget_init(&b, 100);
	ck_assert(membudget_charge(&b, &A, 100));
	membudget_force(&b, 30); /* past the limit: counted */
	ck_assert_uint_eq(b.used, 130);
	ck_assert_uint_eq(b.peak, 130);
	ck_assert_uint_eq(b.forced, 1);
	ck_assert(!membudget_charge(&b, &B, 1));
	membudget_release(&b, 60);
	ck_assert(membudget_charge(&b, &B, 30));
	membudget_set_limit(&b, 50); /* a reload lowers it under what is taken */
	ck_assert(!membudget_charge(&b, &B, 1));
	membudget_release(&b, 60);
	ck_assert_uint_eq(b.used, 40);
	ck_assert(membudget_charge(&b, &B, 10));
	ck_assert(!membudget_charge(&b, &B, 1));
}
END_TEST

/* The no-deadlock rule at the scale of the daemon: N holders each keep a
 * minimum outside the budget; one that needs a large buffer claims it and
 * the others, told by membudget_claimed(), give theirs back as they reach a
 * frame boundary; every large request is then granted in order. */
START_TEST(test_waiters_in_order)
{
	enum { N = 64, BIG = 256 };
	struct membudget b;
	static int owner[N];
	uint64_t held[N] = { 0 };
	int granted = 0;

	membudget_init(&b, 4 * BIG);
	for (int i = 0; i < N; i++)
		if (membudget_charge(&b, &owner[i], BIG))
			held[i] = BIG;
	ck_assert_uint_eq(b.used, 4 * BIG); /* four got one, the rest refused */
	for (int i = 4; i < N; i++) {
		/* waiter i claims; holders release (one each round) until it fits */
		ck_assert(membudget_claim(&b, &owner[i], BIG));
		for (int j = 0; j < N && !membudget_claim_fits(&b); j++)
			if (held[j] && membudget_claimed(&b)) {
				membudget_release(&b, held[j]);
				held[j] = 0;
			}
		ck_assert(membudget_claim_fits(&b));
		ck_assert(membudget_charge(&b, &owner[i], BIG));
		held[i] = BIG;
		granted++;
		ck_assert_uint_le(b.used, b.limit);
	}
	ck_assert_int_eq(granted, N - 4);
}
END_TEST

static Suite *
membudget_suite(void)
{
	Suite *s = suite_create("membudget");
	TCase *tc = tcase_create("budget");

	tcase_add_test(tc, test_charge_release);
	tcase_add_test(tc, test_claim_reserves);
	tcase_add_test(tc, test_claim_other_room);
	tcase_add_test(tc, test_force_and_limit);
	tcase_add_test(tc, test_waiters_in_order);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(membudget_suite());
}
