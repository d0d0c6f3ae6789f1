#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "cursor.h"
#include "hex.h"
#include "parse.h"
#include "record.h"

/* Both versions differ only in their digit and the time after the seq. */
static const char cursor_magic[] = "seglog-cursor 1 ";

enum {
	CURSOR_MAGIC_LEN = sizeof(cursor_magic) - 1,
	CURSOR_VERSION_AT = CURSOR_MAGIC_LEN - 2,
	CURSOR_SEQ_AT = CURSOR_MAGIC_LEN + 2 * RECORD_DIR_ID_LEN + 1,
};

size_t
cursor_format(const struct cursor *c, char *buf)
{
	size_t len;

	memcpy(buf, cursor_magic, CURSOR_MAGIC_LEN);
	if (c->time_us)
		buf[CURSOR_VERSION_AT] = '2';
	hex_encode(c->dir_id, RECORD_DIR_ID_LEN, buf + CURSOR_MAGIC_LEN);
	buf[CURSOR_SEQ_AT - 1] = ' ';
	len = (size_t)(record_put_u64(buf + CURSOR_SEQ_AT, c->seq) - buf);
	if (c->time_us) {
		buf[len++] = ' ';
		len = (size_t)(record_put_u64(buf + len, c->time_us) - buf);
	}
	buf[len++] = '\n';
	return len;
}

int
cursor_parse(const char *buf, size_t len, struct cursor *ret)
{
	struct cursor c = { 0 };
	const char *seq, *sp, *end = buf + len - 1;
	char version;

	if (len < CURSOR_SEQ_AT + 2 || len > CURSOR_LEN_MAX ||
	    memcmp(buf, cursor_magic, CURSOR_VERSION_AT) != 0 ||
	    memcmp(buf + CURSOR_VERSION_AT + 1, cursor_magic + CURSOR_VERSION_AT + 1, 1) != 0 ||
	    buf[CURSOR_SEQ_AT - 1] != ' ' || *end != '\n')
		return -EBADMSG;
	version = buf[CURSOR_VERSION_AT];
	if (version != '1' && version != '2')
		return -EBADMSG;
	if (hex_decode_lower(buf + CURSOR_MAGIC_LEN, RECORD_DIR_ID_LEN, c.dir_id) < 0)
		return -EBADMSG;
	seq = buf + CURSOR_SEQ_AT;
	sp = memchr(seq, ' ', (size_t)(end - seq));
	if ((version == '2') != (sp != NULL))
		return -EBADMSG;
	if (parse_u64_canonical(seq, (size_t)((sp ? sp : end) - seq), &c.seq) < 0)
		return -EBADMSG;
	if (sp && (parse_u64_canonical(sp + 1, (size_t)(end - sp - 1), &c.time_us) < 0 ||
		   c.time_us == 0))
		return -EBADMSG;
	*ret = c;
	return 0;
}

int
cursor_check_dir(const struct cursor *c, const uint8_t dir_id[RECORD_DIR_ID_LEN])
{
	return memcmp(c->dir_id, dir_id, RECORD_DIR_ID_LEN) == 0 ? 0 : -EXDEV;
}

int
cursor_file_open(struct cursor_file *f, const char *path, const char *data_dir,
		 uint64_t interval_us)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int fd = -EBADF;
	const char *dirpath = ".", *name;
	struct stat a, b;
	char *slash;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	name = copy;
	if (slash) {
		*slash = '\0';
		dirpath = slash == copy ? "/" : copy;
		name = slash + 1;
	}
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EISDIR;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	fd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &a) < 0)
		return -errno;
	if (stat(data_dir, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return -EROFS; /* the data directory is read-only for readers */
	*f = (struct cursor_file){ .path = path, .interval_us = interval_us };
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->dir_fd = TAKE_FD(fd);
	return 0;
}

int
cursor_file_load(struct cursor_file *f, struct cursor *ret)
{
	_cleanup_close_ int fd = -EBADF;
	char buf[CURSOR_LEN_MAX + 1];
	struct stat st;
	ssize_t n;
	int r;

	fd = openat(f->dir_fd, f->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r = cursor_parse(buf, (size_t)n, ret);
	if (r < 0)
		return r;
	f->saved = *ret;
	f->have_saved = true;
	return 0;
}

static bool
cursor_file_holds(const struct cursor_file *f, const struct cursor *c)
{
	return f->have_saved && f->saved.seq == c->seq && f->saved.time_us == c->time_us &&
	       memcmp(f->saved.dir_id, c->dir_id, RECORD_DIR_ID_LEN) == 0;
}

int64_t
cursor_file_due_in(const struct cursor_file *f, const struct cursor *c, uint64_t now_us)
{
	uint64_t due = f->saved_us + f->interval_us;

	if (cursor_file_holds(f, c))
		return -1;
	if (!f->saved_us || now_us >= due)
		return 0;
	return (int64_t)(due - now_us);
}

int
cursor_file_save(struct cursor_file *f, const struct cursor *c, uint64_t now_us, bool force)
{
	char buf[CURSOR_LEN_MAX];
	int64_t due = cursor_file_due_in(f, c, now_us);
	int r;

	if (due < 0 || (due > 0 && !force))
		return 0;
	r = atomic_file_write_all(&fsops_syscall, f->dir_fd, f->name, 0644, buf,
				  cursor_format(c, buf));
	if (r < 0)
		return r;
	f->saved = *c;
	f->have_saved = true;
	f->saved_us = now_us;
	return 1;
}

void
cursor_file_close(struct cursor_file *f)
{
	if (f)
		f->dir_fd = safe_close(f->dir_fd);
}
