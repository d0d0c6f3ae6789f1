/* Private to the record module (record.c, record_escape.c). */
#pragma once

static const char record_hex[] = "0123456789abcdef";

static inline int
record_hexval(unsigned c)
{
	if (c - '0' < 10)
		return (int)(c - '0');
	if (c - 'a' < 6)
		return (int)(c - 'a' + 10);
	return -1;
}
