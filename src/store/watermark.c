#include "config.h"

#include <errno.h>
#include <string.h>

#include "hex.h"
#include "parse.h"
#include "watermark.h"

static const char watermark_magic[] = "seglog-watermark 1 ";

enum {
	WATERMARK_MAGIC_LEN = sizeof(watermark_magic) - 1,
	WATERMARK_SEQ_AT = WATERMARK_MAGIC_LEN + 2 * RECORD_DIR_ID_LEN + 1,
	WATERMARK_SEQ_DIGITS = 20,
};

void
watermark_format(const uint8_t dir_id[RECORD_DIR_ID_LEN], uint64_t seq, char *buf)
{
	memcpy(buf, watermark_magic, WATERMARK_MAGIC_LEN);
	hex_encode(dir_id, RECORD_DIR_ID_LEN, buf + WATERMARK_MAGIC_LEN);
	buf[WATERMARK_SEQ_AT - 1] = ' ';
	for (int i = WATERMARK_SEQ_DIGITS - 1; i >= 0; i--) {
		buf[WATERMARK_SEQ_AT + i] = (char)('0' + seq % 10);
		seq /= 10;
	}
	buf[WATERMARK_LEN - 1] = '\n';
}

int
watermark_parse(const char *buf, size_t len, uint8_t ret_dir_id[RECORD_DIR_ID_LEN],
		uint64_t *ret_seq)
{
	uint8_t id[RECORD_DIR_ID_LEN];
	uint64_t seq;

	if (len != WATERMARK_LEN || memcmp(buf, watermark_magic, WATERMARK_MAGIC_LEN) != 0 ||
	    buf[WATERMARK_SEQ_AT - 1] != ' ' || buf[WATERMARK_LEN - 1] != '\n')
		return -EBADMSG;
	if (hex_decode_lower(buf + WATERMARK_MAGIC_LEN, RECORD_DIR_ID_LEN, id) < 0)
		return -EBADMSG;
	if (parse_u64_mem(buf + WATERMARK_SEQ_AT, WATERMARK_SEQ_DIGITS, &seq) < 0)
		return -EBADMSG;
	memcpy(ret_dir_id, id, RECORD_DIR_ID_LEN);
	*ret_seq = seq;
	return 0;
}
