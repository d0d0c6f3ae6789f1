/* Fuzzes the /dev/kmsg record parser (src/format/kmsg.h).  Properties:
 *
 * - the message lies in the scratch buffer and is never longer than the
 *   input; the continuation lines lie in the input, and walking them ends,
 *   every key and value inside them;
 * - a parsed record's facility and severity give back its PRI;
 * - round trip: any bytes, escaped as the kernel escapes them (every byte
 *   < 0x20, >= 0x7f and the backslash as \xHH) and framed as a record,
 *   parse back to exactly those bytes.
 *
 * Input: the record as read() would return it. */
#include "config.h"

#include <errno.h>

#include "kmsg.h"
#include "fuzz.h"

static void
fuzz_check_parse(const char *buf, size_t len)
{
	char *scratch = fuzz_alloc(len);
	struct kmsg_record r;
	const char *k, *v;
	size_t kl, vl, pos = 0, last = 0;

	if (kmsg_parse(buf, len, scratch, &r) == 0) {
		FUZZ_CHECK(r.msg == scratch && r.msg_len <= len);
		FUZZ_CHECK(((unsigned)r.facility << 3 | r.severity) <= KMSG_PRI_MAX);
		FUZZ_CHECK(!r.dict || (r.dict > buf && r.dict + r.dict_len <= buf + len));
		FUZZ_CHECK(r.dict || r.dict_len == 0);
		while (kmsg_dict_next(&r, &pos, &k, &kl, &v, &vl) == 1) {
			FUZZ_CHECK(pos > last && pos <= r.dict_len);
			FUZZ_CHECK(k >= r.dict && k + kl <= r.dict + r.dict_len);
			FUZZ_CHECK(v >= k + kl && v + vl <= r.dict + r.dict_len);
			last = pos;
		}
	}
	free(scratch);
}

static void
fuzz_check_round_trip(const uint8_t *data, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	static const char prefix[] = "6,42,1000,-;";
	size_t cap = sizeof(prefix) + 4 * size + 1, n = sizeof(prefix) - 1;
	char *line = fuzz_alloc(cap), *scratch = fuzz_alloc(cap);
	struct kmsg_record r;

	memcpy(line, prefix, n);
	for (size_t i = 0; i < size; i++) {
		uint8_t c = data[i];
		if (c < 0x20 || c >= 0x7f || c == '\\') {
			line[n++] = '\\';
			line[n++] = 'x';
			line[n++] = hex[c >> 4];
			line[n++] = hex[c & 15];
		} else {
			line[n++] = (char)c;
		}
	}
	line[n++] = '\n';
	FUZZ_CHECK(kmsg_parse(line, n, scratch, &r) == 0);
	FUZZ_CHECK(r.seq == 42 && r.ts_us == 1000 && r.facility == 0 && r.severity == 6);
	FUZZ_CHECK(r.msg_len == size && memcmp(r.msg, data, size) == 0);
	FUZZ_CHECK(r.dict == NULL);
	free(line);
	free(scratch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size);

	fuzz_check_parse(buf, size);
	fuzz_check_round_trip(data, size);
	free(buf);
	return 0;
}
