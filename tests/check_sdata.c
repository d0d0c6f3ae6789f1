/* RFC 5424 STRUCTURED-DATA (src/format/sdata.c) and what the syslog parser keeps
 * of MSGID and STRUCTURED-DATA (src/format/syslogmsg.c). */
#include "config.h"

#include <string.h>

#include "sdata.h"
#include "syslogmsg.h"
#include "testutil.h"

#define LIT(s) s, sizeof(s) - 1

START_TEST(test_span)
{
	static const struct {
		const char *s;
		size_t want;
	} v[] = {
		{ "[a]", 3 },
		{ "[a][b]", 6 },
		{ "[a] x", 3 },
		{ "[a b=\"c\"]", 9 },
		{ "[a b=\"\" c=\"d e\"]", 16 },
		{ "[a b=\"\\\"\\\\\\]\"]", 14 },
		{ "[a b=\"x]y\"]", 11 },	 /* unescaped ']' inside quotes: lenient */
		{ "[exampleSDID@32473 iut=\"3\"]", 27 },
		{ "[]", 0 },			 /* SD-ID missing */
		{ "[a=b]", 0 },			 /* '=' in SD-ID */
		{ "[a b]", 0 },			 /* param without value */
		{ "[a b=c]", 0 },		 /* value not quoted */
		{ "[a b=\"c]", 0 },		 /* unterminated */
		{ "[a  b=\"c\"]", 0 },		 /* two SPs */
		{ "[123456789012345678901234567890123]", 0 }, /* SD-ID of 33 */
		{ "[12345678901234567890123456789012]", 34 },
		{ "-", 0 },
		{ "", 0 },
		{ "[a][", 3 },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_msg(sdata_span(v[i].s, strlen(v[i].s)) == v[i].want, "%s: %zu, want %zu",
			      v[i].s, sdata_span(v[i].s, strlen(v[i].s)), v[i].want);
}
END_TEST

START_TEST(test_iterate)
{
	static const char sd[] = "[id1 a=\"1\" b=\"x\\\"y\\]z\\\\w\\n\"][id2][id3 a=\"\"]";
	struct sdata_iter it = sdata_iter_init(sd, sizeof(sd) - 1), p;
	const char *id, *name, *val;
	size_t idl, nl, vl;
	char buf[64];

	ck_assert_uint_eq(sdata_span(sd, sizeof(sd) - 1), sizeof(sd) - 1);
	ck_assert(sdata_next_element(&it, &id, &idl, &p));
	ck_assert_uint_eq(idl, 3);
	ck_assert_mem_eq(id, "id1", 3);
	ck_assert(sdata_next_param(&p, &name, &nl, &val, &vl));
	ck_assert_mem_eq(name, "a", nl);
	ck_assert_uint_eq(vl, 1);
	ck_assert_int_eq(val[0], '1');
	ck_assert(sdata_next_param(&p, &name, &nl, &val, &vl));
	ck_assert_mem_eq(name, "b", nl);
	/* \" \] \\ unescape; \n is not an escape and stays as two bytes */
	size_t k = sdata_unescape(val, vl, buf);
	ck_assert_uint_eq(k, 9);
	ck_assert_mem_eq(buf, "x\"y]z\\w\\n", 9);
	ck_assert(!sdata_next_param(&p, &name, &nl, &val, &vl));
	ck_assert(sdata_next_element(&it, &id, &idl, &p));
	ck_assert_mem_eq(id, "id2", 3);
	ck_assert(!sdata_next_param(&p, &name, &nl, &val, &vl));
	ck_assert(sdata_next_element(&it, &id, &idl, &p));
	ck_assert(sdata_next_param(&p, &name, &nl, &val, &vl));
	ck_assert_uint_eq(vl, 0);
	ck_assert(!sdata_next_element(&it, &id, &idl, &p));
}
END_TEST

/* logger --rfc5424 --msgid MID --sd-id x@32473 --sd-param 'k="v"' sends
 * this; MSGID and STRUCTURED-DATA are kept byte for byte. */
START_TEST(test_syslog_keeps_msgid_and_sd)
{
	static const char in[] = "<165>1 2003-10-11T22:14:15.003Z host.example app 42 MID "
				 "[timeQuality tzKnown=\"1\"][x@32473 k=\"v \\] w\"] the message";
	struct syslog_msg m;

	syslog_parse(LIT(in), 0, &m);
	ck_assert_uint_eq(m.msgid_len, 3);
	ck_assert_mem_eq(m.msgid, "MID", 3);
	ck_assert_uint_eq(m.sd_len, strlen("[timeQuality tzKnown=\"1\"][x@32473 k=\"v \\] w\"]"));
	ck_assert_mem_eq(m.sd, "[timeQuality tzKnown=\"1\"][x@32473 k=\"v \\] w\"]", m.sd_len);
	ck_assert_uint_eq(m.msg_len, 11);
	ck_assert_mem_eq(m.msg, "the message", 11);
	ck_assert_mem_eq(m.hostname, "host.example", m.hostname_len);
}
END_TEST

START_TEST(test_syslog_nil_and_bad_sd)
{
	struct syslog_msg m;

	syslog_parse(LIT("<13>1 - h a - - - msg"), 0, &m);
	ck_assert_ptr_null(m.msgid);
	ck_assert_ptr_null(m.sd);
	ck_assert_uint_eq(m.sd_len + m.msgid_len, 0);
	/* SD glued to the message is not RFC 5424: everything is the message */
	syslog_parse(LIT("<13>1 - h a - M [x]msg"), 0, &m);
	ck_assert_ptr_null(m.sd);
	ck_assert_ptr_null(m.msgid);
	ck_assert_uint_eq(m.msg_len, strlen("1 - h a - M [x]msg"));
	/* RFC 3164 has neither */
	syslog_parse(LIT("<13>Nov 24 10:17:43 host tag: [x] msg"), 0, &m);
	ck_assert_ptr_null(m.sd);
	ck_assert_ptr_null(m.msgid);
	ck_assert_mem_eq(m.hostname, "host", m.hostname_len);
}
END_TEST

static Suite *
sdata_suite(void)
{
	Suite *s = suite_create("sdata");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_span);
	tcase_add_test(tc, test_iterate);
	tcase_add_test(tc, test_syslog_keeps_msgid_and_sd);
	tcase_add_test(tc, test_syslog_nil_and_bad_sd);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(sdata_suite());
}
