#include "config.h"

#include <errno.h>
#include <string.h>

#include "record.h"
#include "recover.h"

void
recover_scan(unsigned version, const char *buf, size_t len, uint64_t base,
	     bool at_line_start, uint64_t unsynced_max, struct recover_result *ret)
{
	const uint64_t end = base + len;
	size_t pos = 0;
	bool after_damage = false;

	memset(ret, 0, sizeof(*ret));
	if (!at_line_start) {
		const char *nl = memchr(buf, '\n', len);
		pos = nl ? (size_t)(nl - buf) + 1 : len;
	}
	ret->cut = base + pos;

	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) + 1 : len - pos;
		uint64_t seq = 0, t = 0;
		int k = nl ? record_check_version(version, line, n, &seq, &t, NULL) : -EBADMSG;
		bool ok = k == 0;

		if (k == RECORD_LINE_META) {
			/* a valid meta line (version 2): no seq, kept */
			pos += n;
			ret->cut = base + pos;
			continue;
		}
		if (ok && ret->have_last &&
		    (after_damage ? seq <= ret->last_seq : seq != ret->last_seq + 1))
			ok = false;
		if (!ok) {
			if (end - (base + pos) <= unsynced_max || !nl)
				return; /* torn tail: cut stays at this line */
			ret->damaged++;
			after_damage = true;
			pos += n;
			ret->cut = base + pos;
			continue;
		}
		if (!ret->have_last)
			ret->first_seq = seq;
		ret->have_last = true;
		ret->last_seq = seq;
		ret->last_time_us = t;
		ret->records++;
		after_damage = false;
		pos += n;
		ret->cut = base + pos;
	}
}
