/* Record selection for seglog tail/cat (src/read/filter.c): every criterion,
 * and the syslog fields of format version 2 (--hostname, --msgid,
 * --facility). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "filter.h"
#include "testutil.h"

/* A record of facility fac with the given tag, hostname and msgid ("" for
 * none). */
static struct record
rec(unsigned fac, const char *tag, const char *host, const char *msgid)
{
	return (struct record){
		.seq = 10, .time_us = 1000, .pid = 42, .uid = 1000, .facility = (uint8_t)fac,
		.severity = 6, .tag = tag, .tag_len = strlen(tag), .hostname = host,
		.hostname_len = strlen(host), .msgid = msgid, .msgid_len = strlen(msgid),
		.claimed_pid = RECORD_NO_CLAIMED_PID,
	};
}

START_TEST(test_empty_matches_all)
{
	struct filter f;
	struct record r = rec(1, "app", "", "");

	filter_init(&f);
	ck_assert(filter_match(&f, &r));
	r = rec(23, "", "web-1", "ID1");
	ck_assert(filter_match(&f, &r));
}
END_TEST

START_TEST(test_level_and_range)
{
	struct filter f;
	struct record r = rec(1, "app", "", "");

	filter_init(&f);
	ck_assert_int_eq(filter_set_level(&f, "warning"), 0);
	ck_assert(!filter_match(&f, &r)); /* info is less severe */
	r.severity = 4;
	ck_assert(filter_match(&f, &r));
	ck_assert_int_eq(filter_set_level(&f, "debug..notice"), 0);
	ck_assert(!filter_match(&f, &r));
	r.severity = 7;
	ck_assert(filter_match(&f, &r));
	ck_assert_int_eq(filter_set_level(&f, "8"), -EINVAL);
	ck_assert_int_eq(filter_set_level(&f, "loud"), -EINVAL);
}
END_TEST

START_TEST(test_seq_time_uid_pid_tag)
{
	struct filter f;
	struct record r = rec(1, "app", "", "");

	filter_init(&f);
	f.after_seq = 10;
	ck_assert(!filter_match(&f, &r));
	f.after_seq = 9;
	ck_assert(filter_match(&f, &r));
	f.have_since = true;
	f.since_us = 1001;
	ck_assert(!filter_match(&f, &r));
	f.since_us = 1000;
	f.have_until = true;
	f.until_us = 999;
	ck_assert(!filter_match(&f, &r));
	ck_assert(filter_past_end(&f, &r));
	f.until_us = 1000;
	ck_assert(filter_match(&f, &r));
	f.have_uid = true;
	f.uid = 0;
	ck_assert(!filter_match(&f, &r));
	f.uid = 1000;
	f.have_pid = true;
	f.pid = 42;
	ck_assert(filter_match(&f, &r));
	ck_assert_int_eq(filter_add_tag(&f, "other"), 0);
	ck_assert(!filter_match(&f, &r));
	ck_assert_int_eq(filter_add_tag(&f, "app"), 0);
	ck_assert(filter_match(&f, &r));
}
END_TEST

START_TEST(test_facility_names_numbers_lists)
{
	struct filter f;
	struct record auth = rec(4, "a", "", ""), authpriv = rec(10, "a", "", "");
	struct record user = rec(1, "a", "", ""), local7 = rec(23, "a", "", "");

	filter_init(&f);
	ck_assert_int_eq(filter_add_facilities(&f, "auth,authpriv"), 0);
	ck_assert(filter_match(&f, &auth));
	ck_assert(filter_match(&f, &authpriv));
	ck_assert(!filter_match(&f, &user));
	ck_assert_int_eq(filter_add_facilities(&f, "23"), 0); /* repeatable: OR */
	ck_assert(filter_match(&f, &local7));
	ck_assert(!filter_match(&f, &user));
	ck_assert_int_eq(filter_add_facilities(&f, "1"), 0);
	ck_assert(filter_match(&f, &user));
	/* the one parser: names ignore case, as seglog send -p does */
	filter_init(&f);
	ck_assert_int_eq(filter_add_facilities(&f, "AUTH,Local7"), 0);
	ck_assert(filter_match(&f, &auth) && filter_match(&f, &local7));
	ck_assert(!filter_match(&f, &user));
}
END_TEST

START_TEST(test_level_names_one_parser)
{
	struct filter f;
	struct record r = rec(1, "a", "", "");

	filter_init(&f);
	ck_assert_int_eq(filter_set_level(&f, "WARN"), 0); /* alias, any case */
	r.severity = 4;
	ck_assert(filter_match(&f, &r));
	r.severity = 5;
	ck_assert(!filter_match(&f, &r));
	ck_assert_int_eq(filter_set_level(&f, "Error..Panic"), 0);
	r.severity = 0;
	ck_assert(filter_match(&f, &r));
	r.severity = 4;
	ck_assert(!filter_match(&f, &r));
	ck_assert_int_eq(filter_set_level(&f, "07"), 0);
	ck_assert_int_eq(filter_set_level(&f, "10"), -EINVAL);
}
END_TEST

START_TEST(test_facility_rejects)
{
	static const char *const bad[] = { "", ",", "auth,", ",auth", "24", "99", "123",
					   "bogus", "auth,,user", "-1", "1x", "local77" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct filter f;
		filter_init(&f);
		ck_assert_msg(filter_add_facilities(&f, bad[i]) == -EINVAL, "'%s' accepted",
			      bad[i]);
		ck_assert_uint_eq(f.facilities, 0); /* nothing half-applied */
	}
}
END_TEST

START_TEST(test_hostname)
{
	struct filter f;
	struct record web = rec(1, "a", "Web-1.example.org", ""), none = rec(1, "a", "", "");
	struct record other = rec(1, "a", "web-10.example.org", "");

	filter_init(&f);
	ck_assert_int_eq(filter_add_host(&f, "web-1.example.org"), 0);
	ck_assert(filter_match(&f, &web)); /* hostnames ignore case (RFC 4343) */
	ck_assert(!filter_match(&f, &other));
	ck_assert(!filter_match(&f, &none)); /* no claim matches no name */
	ck_assert_int_eq(filter_add_host(&f, "-"), 0);
	ck_assert(filter_match(&f, &none)); /* "-": none claimed */
	ck_assert(!filter_match(&f, &other));
	struct record dash = rec(1, "a", "-", ""); /* a sender that claims the name "-" */
	ck_assert(!filter_match(&f, &dash));
	filter_init(&f);
	ck_assert_int_eq(filter_add_host(&f, "web-1"), 0);
	ck_assert(!filter_match(&f, &web)); /* whole name, not a prefix */
}
END_TEST

START_TEST(test_msgid)
{
	struct filter f;
	struct record a = rec(1, "a", "", "ID47"), b = rec(1, "a", "", "id47");
	struct record none = rec(1, "a", "", "");

	filter_init(&f);
	ck_assert_int_eq(filter_add_msgid(&f, "ID47"), 0);
	ck_assert(filter_match(&f, &a));
	ck_assert(!filter_match(&f, &b)); /* MSGID is case-sensitive */
	ck_assert(!filter_match(&f, &none));
	ck_assert_int_eq(filter_add_msgid(&f, "-"), 0);
	ck_assert(filter_match(&f, &none));
}
END_TEST

START_TEST(test_all_criteria_and)
{
	struct filter f;
	struct record r = rec(4, "sshd", "bastion", "LOGIN");

	filter_init(&f);
	ck_assert_int_eq(filter_add_facilities(&f, "auth"), 0);
	ck_assert_int_eq(filter_add_host(&f, "bastion"), 0);
	ck_assert_int_eq(filter_add_msgid(&f, "LOGIN"), 0);
	ck_assert_int_eq(filter_add_tag(&f, "sshd"), 0);
	ck_assert(filter_match(&f, &r));
	r.facility = 10;
	ck_assert(!filter_match(&f, &r));
	r.facility = 4;
	r.msgid = "LOGOUT";
	ck_assert(!filter_match(&f, &r));
}
END_TEST

START_TEST(test_lists_are_bounded)
{
	struct filter f;

	filter_init(&f);
	for (int i = 0; i < FILTER_TAGS_MAX; i++) {
		ck_assert_int_eq(filter_add_host(&f, "h"), 0);
		ck_assert_int_eq(filter_add_msgid(&f, "m"), 0);
		ck_assert_int_eq(filter_add_tag(&f, "t"), 0);
	}
	ck_assert_int_eq(filter_add_host(&f, "h"), -E2BIG);
	ck_assert_int_eq(filter_add_msgid(&f, "m"), -E2BIG);
	ck_assert_int_eq(filter_add_tag(&f, "t"), -E2BIG);
	filter_init(&f);
	ck_assert_int_eq(filter_add_host(&f, ""), -EINVAL); /* a mistake, not "none" */
	ck_assert_int_eq(filter_add_msgid(&f, ""), -EINVAL);
}
END_TEST

static Suite *
filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_empty_matches_all);
	tcase_add_test(tc, test_level_and_range);
	tcase_add_test(tc, test_seq_time_uid_pid_tag);
	tcase_add_test(tc, test_facility_names_numbers_lists);
	tcase_add_test(tc, test_facility_rejects);
	tcase_add_test(tc, test_level_names_one_parser);
	tcase_add_test(tc, test_hostname);
	tcase_add_test(tc, test_msgid);
	tcase_add_test(tc, test_all_criteria_and);
	tcase_add_test(tc, test_lists_are_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(filter_suite());
}
