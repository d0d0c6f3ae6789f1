/* plfs: a FUSE filesystem that forgets what a disk would not yet have.
 *
 *   plfs [--model strict|torn|reordered] [--seed N] [--block 512|4096] [--shadow DIR]
 *        [--cut-at OP[:PATTERN]:N]... [--cut-after OP[:PATTERN]:N]... [--control FIFO]
 *        [--stats FILE] [--log FILE] BACKING MOUNTPOINT
 *
 * Every operation passes through to BACKING at once, so reads see everything,
 * as they do from the page cache.  Beside that, plfs keeps what a power loss
 * would leave: per file a durable image (a copy in the shadow directory as of
 * its last fsync/fdatasync) plus the data operations since (writes, size
 * changes), and per directory its durable entries (as of its last fsyncdir)
 * plus the entry changes since (create, mknod, mkdir, symlink, link, unlink,
 * rmdir, rename).  On a cut (SIGUSR1, "cut" written to the control FIFO, or
 * the Nth operation named by --cut-at / --cut-after, which the FIFO can also
 * "arm" and "disarm" later) every further operation fails with EIO, BACKING is rewritten
 * into the state the model lets survive, and plfs unmounts and exits.  A clean
 * unmount (SIGTERM, umount) loses nothing.  The model is specified exactly in
 * tests/powerloss/README.md.  Single-threaded on purpose: operations are
 * handled one at a time in arrival order, so the record is exact. */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"

enum plfs_model { MODEL_STRICT, MODEL_TORN, MODEL_REORDERED };
static const char *const plfs_model_names[] = { "strict", "torn", "reordered" };

/* Operations that are counted (and can be cut at), by kind. */
enum plfs_op {
	OP_WRITE, OP_TRUNCATE, OP_FSYNC, OP_FDATASYNC, OP_FSYNCDIR, OP_CREATE, OP_MKNOD,
	OP_MKDIR, OP_UNLINK, OP_RMDIR, OP_RENAME, OP_LINK, OP_SYMLINK, OP_CHMOD, OP__MAX
};
static const char *const plfs_op_names[OP__MAX] = {
	"write", "truncate", "fsync", "fdatasync", "fsyncdir", "create", "mknod",
	"mkdir", "unlink", "rmdir", "rename", "link", "symlink", "chmod",
};

/* Kinds of files, for the per-kind counts (plfs_class). */
enum plfs_class {
	CLS_CURRENT, CLS_SEGMENT, CLS_TMP, CLS_TORN, CLS_WATERMARK, CLS_DIR, CLS_OTHER, CLS__MAX
};
static const char *const plfs_class_names[CLS__MAX] = {
	"current", "segment", "tmp", "torn", "watermark", "dir", "other",
};

enum plfs_type { OBJ_FILE, OBJ_DIR, OBJ_LINK, OBJ_SPECIAL };

struct plfs_entry {
	struct plfs_entry *next;
	struct plfs_obj *obj;
	char name[];
};

/* One unsynced data operation: a write, or (setsize) a size change to off. */
struct plfs_dataop {
	struct plfs_dataop *next;
	off_t off;
	size_t len;
	bool setsize;
	char data[];
};

/* One unsynced directory entry change: name := target (NULL removes it).  The
 * changes of one operation inside one directory share a group and survive or
 * vanish together (a rename within a directory is atomic). */
struct plfs_dirop {
	struct plfs_dirop *next;
	struct plfs_obj *dir, *target;
	unsigned group;
	bool survives;
	char name[];
};

/* A file, directory, symlink or special file: an inode.  Its identity is
 * ours, not the backing inode number, which the backing filesystem reuses. */
struct plfs_obj {
	struct plfs_obj *next_all, *hnext;
	uint64_t id;
	enum plfs_type type;
	mode_t mode;
	dev_t rdev;
	ino_t b_ino;		   /* backing inode, while live */
	bool live;		   /* the backing inode still has a name */
	bool fresh;		   /* created since mount: its durable data is empty */
	bool has_image;		   /* shadow "img.ID" holds the durable data */
	char *name;		   /* last name (patterns, logs) */
	char *target;		   /* symlink target */
	struct plfs_entry *durable; /* directories: entries as of the last fsyncdir */
	struct plfs_dataop *ops, **ops_tail;
	/* at the cut */
	struct plfs_entry *final;
	char *bpath, *post_path;
	uint64_t keep_units, seed;
};

struct plfs_handle {
	struct plfs_handle *next, **pprev; /* open handles, freed at exit */
	int fd;
	struct plfs_obj *obj;
};

struct plfs_trigger {
	const char *spec;
	unsigned ops; /* bit per enum plfs_op */
	char *pattern;
	unsigned long n, seen;
	bool after;
};

#define PLFS_BUCKETS 4096
#define PLFS_TRIGGERS 16

static struct {
	int bfd, sfd, postfd;
	enum plfs_model model;
	uint64_t seed, rng;
	unsigned block;
	double p;
	struct plfs_obj *root, *all, *by_ino[PLFS_BUCKETS];
	struct plfs_handle *handles;
	uint64_t next_id;
	unsigned next_group;
	struct plfs_dirop *dops;
	struct plfs_trigger trig[PLFS_TRIGGERS];
	unsigned ntrig;
	struct plfs_trigger *after;
	enum plfs_op after_op;
	char after_name[NAME_MAX + 1];
	bool cut, cut_failed;
	char cut_desc[600];
	struct fuse_session *se;
	FILE *log;
	const char *stats;
	int sigpipe[2], ctlfd;
	char ctl[1024];
	size_t ctl_len;
	uint64_t count[OP__MAX][2], bytes[2];
	uint64_t fcount[OP__MAX][CLS__MAX][2]; /* by the kind of file named (plfs_class) */
	uint64_t dirops, dirops_kept, units, units_kept, ubytes, ubytes_kept, objs_lost;
} P = { .bfd = -EBADF, .sfd = -EBADF, .postfd = -EBADF, .sigpipe = { -1, -1 }, .ctlfd = -EBADF };

/* ---- small helpers -------------------------------------------------------- */

static void *
plfs_alloc(size_t n)
{
	void *p = calloc(1, n);
	if (!p) {
		fputs("plfs: out of memory\n", stderr);
		abort();
	}
	return p;
}

static char *
plfs_strdup(const char *s)
{
	char *p = plfs_alloc(strlen(s) + 1);
	return strcpy(p, s);
}

__attribute__((format(printf, 1, 2))) static void
plfs_log(const char *fmt, ...)
{
	va_list ap;

	if (!P.log)
		return;
	va_start(ap, fmt);
	vfprintf(P.log, fmt, ap);
	va_end(ap);
	fputc('\n', P.log);
}

/* splitmix64: small, seedable, the same sequence everywhere. */
static uint64_t
plfs_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double
plfs_uniform(uint64_t *s)
{
	return (double)(plfs_rand(s) >> 11) * 0x1.0p-53;
}

/* The backing path of a FUSE path ("/" is "."). */
static const char *
plfs_rel(const char *path)
{
	return path[1] ? path + 1 : ".";
}

static const char *
plfs_base(const char *path)
{
	return strrchr(path, '/') + 1;
}

static enum plfs_type
plfs_type_of(mode_t m)
{
	return S_ISREG(m) ? OBJ_FILE : S_ISDIR(m) ? OBJ_DIR : S_ISLNK(m) ? OBJ_LINK : OBJ_SPECIAL;
}

static int
plfs_copy_fd(int src, int dst)
{
	static char buf[1 << 17];

	for (;;) {
		ssize_t n = read(src, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		for (ssize_t w = 0; w < n;) {
			ssize_t k = write(dst, buf + w, (size_t)(n - w));
			if (k < 0)
				return -errno;
			w += k;
		}
	}
}

/* ---- objects and entries -------------------------------------------------- */

static struct plfs_obj *
plfs_obj_find(ino_t ino)
{
	for (struct plfs_obj *o = P.by_ino[ino % PLFS_BUCKETS]; o; o = o->hnext)
		if (o->b_ino == ino)
			return o;
	return NULL;
}

/* Makes the object for a backing inode: fresh if it was created through the
 * mount just now, else one that was durable when plfs started. */
static struct plfs_obj *
plfs_obj_new(const struct stat *st, const char *name, bool fresh)
{
	struct plfs_obj *o = plfs_alloc(sizeof(*o));

	o->id = ++P.next_id;
	o->type = plfs_type_of(st->st_mode);
	o->mode = st->st_mode;
	o->rdev = st->st_rdev;
	o->b_ino = st->st_ino;
	o->live = true;
	o->fresh = fresh;
	o->name = plfs_strdup(name);
	o->ops_tail = &o->ops;
	o->next_all = P.all;
	P.all = o;
	o->hnext = P.by_ino[st->st_ino % PLFS_BUCKETS];
	P.by_ino[st->st_ino % PLFS_BUCKETS] = o;
	return o;
}

/* The backing inode has lost its last name: it leaves the inode table (the
 * backing filesystem may reuse the number), the object lives on as long as a
 * durable entry or a pending change can bring it back. */
static void
plfs_obj_unlink_last(struct plfs_obj *o)
{
	struct plfs_obj **pp = &P.by_ino[o->b_ino % PLFS_BUCKETS];

	while (*pp && *pp != o)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = o->hnext;
	o->live = false;
}

/* The object at a FUSE path (adopting a backing inode plfs has not seen). */
static struct plfs_obj *
plfs_obj_at(const char *path, struct stat *ret_st)
{
	struct stat st;

	if (fstatat(P.bfd, plfs_rel(path), &st, AT_SYMLINK_NOFOLLOW) < 0)
		return NULL;
	if (ret_st)
		*ret_st = st;
	struct plfs_obj *o = plfs_obj_find(st.st_ino);
	return o ? o : plfs_obj_new(&st, plfs_base(path), false);
}

static struct plfs_obj *
plfs_parent(const char *path)
{
	char buf[PATH_MAX];
	size_t n = (size_t)(strrchr(path, '/') - path);

	if (n == 0)
		return P.root;
	if (n >= sizeof(buf))
		return NULL;
	memcpy(buf, path, n);
	buf[n] = '\0';
	return plfs_obj_at(buf, NULL);
}

/* name := o in an entry list (o NULL: name removed). */
static void
plfs_entry_set(struct plfs_entry **list, const char *name, struct plfs_obj *o)
{
	struct plfs_entry **pp = list;

	while (*pp && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	if (*pp && o) {
		(*pp)->obj = o;
	} else if (*pp) {
		struct plfs_entry *e = *pp;
		*pp = e->next;
		free(e);
	} else if (o) {
		struct plfs_entry *e = plfs_alloc(sizeof(*e) + strlen(name) + 1);
		strcpy(e->name, name);
		e->obj = o;
		*pp = e;
	}
}

static void
plfs_dirop_add(struct plfs_obj *dir, const char *name, struct plfs_obj *target, unsigned group)
{
	struct plfs_dirop *d = plfs_alloc(sizeof(*d) + strlen(name) + 1), **pp = &P.dops;

	d->dir = dir;
	d->target = target;
	d->group = group;
	strcpy(d->name, name);
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
}

/* ---- data: durable images and unsynced operations ---------------------- */

static void
plfs_image_name(const struct plfs_obj *o, char buf[static 32])
{
	snprintf(buf, 32, "img.%" PRIu64, o->id);
}

/* Before the first change to a file (or before its backing inode goes away),
 * copies its durable content into the shadow: the backing file as it is now
 * (nothing is pending yet), or nothing for a file created since mount.
 * src_fd is an open descriptor of the file (any access mode), or -1 to open
 * relpath. */
static int
plfs_image_ensure(struct plfs_obj *o, int src_fd, const char *relpath)
{
	char name[32], proc[64];

	if (o->type != OBJ_FILE || o->has_image)
		return 0;
	plfs_image_name(o, name);
	_cleanup_close_ int dst = openat(P.sfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
					 0600);
	if (dst < 0)
		return -errno;
	if (!o->fresh) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", src_fd);
		_cleanup_close_ int src = src_fd >= 0 ? open(proc, O_RDONLY | O_CLOEXEC)
						      : openat(P.bfd, relpath, O_RDONLY | O_NOFOLLOW |
										O_CLOEXEC);
		if (src < 0)
			return -errno;
		int r = plfs_copy_fd(src, dst);
		if (r < 0)
			return r;
	}
	o->has_image = true;
	return 0;
}

static void
plfs_dataop_add(struct plfs_obj *o, off_t off, const char *buf, size_t len, bool setsize)
{
	struct plfs_dataop *d = plfs_alloc(sizeof(*d) + len);

	d->off = off;
	d->len = len;
	d->setsize = setsize;
	if (len)
		memcpy(d->data, buf, len);
	*o->ops_tail = d;
	o->ops_tail = &d->next;
}

static int
plfs_dataop_apply(int fd, const struct plfs_dataop *d, off_t from, off_t to)
{
	if (d->setsize)
		return ftruncate(fd, d->off) < 0 ? -errno : 0;
	ssize_t n = pwrite(fd, d->data + (from - d->off), (size_t)(to - from), from);
	return n == to - from ? 0 : n < 0 ? -errno : -EIO;
}

/* fsync/fdatasync: the file's pending operations become its durable image. */
static int
plfs_obj_sync(struct plfs_obj *o)
{
	char name[32];

	if (!o->ops)
		return 0;
	plfs_image_name(o, name);
	_cleanup_close_ int fd = openat(P.sfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (o->ops) {
		struct plfs_dataop *d = o->ops;
		int r = plfs_dataop_apply(fd, d, d->off, d->off + (off_t)d->len);
		if (r < 0)
			return r;
		o->ops = d->next;
		free(d);
	}
	o->ops_tail = &o->ops;
	return 0;
}

/* fsyncdir: the directory's pending entry changes become durable. */
static void
plfs_dir_sync(struct plfs_obj *dir)
{
	for (struct plfs_dirop **pp = &P.dops; *pp;) {
		struct plfs_dirop *d = *pp;
		if (d->dir != dir) {
			pp = &d->next;
			continue;
		}
		plfs_entry_set(&dir->durable, d->name, d->target);
		*pp = d->next;
		free(d);
	}
}

/* ---- gate: counting, EIO after the cut, triggers ------------------------ */

/* The kind of file an operation names, by its (base) name, so that the
 * stats say which path each operation took for segment files: "op write
 * current 0 57" means every write to current came from io_uring. */
static enum plfs_class
plfs_class(const char *name)
{
	size_t n = strlen(name);

	if (strcmp(name, "current") == 0)
		return CLS_CURRENT;
	if (n == 24 && strspn(name, "0123456789") == 20 && strcmp(name + 20, ".log") == 0)
		return CLS_SEGMENT;
	if (strncmp(name, ".tmp.", 5) == 0)
		return CLS_TMP;
	if (n > 5 && strcmp(name + n - 5, ".torn") == 0)
		return CLS_TORN;
	if (strcmp(name, "watermark") == 0)
		return CLS_WATERMARK;
	if (strcmp(name, "data") == 0 || strcmp(name, "quarantine") == 0 || n == 0)
		return CLS_DIR;
	return CLS_OTHER;
}

static void plfs_cut(const char *why);

/* 0 for a request from an ordinary thread, 1 for one from an io_uring worker
 * ("iou-wrk-*" in /proc/TID/comm): how the operation reached the layer. */
static int
plfs_requester(void)
{
	static pid_t tid_cache[64];
	static unsigned char cls_cache[64];
	pid_t tid = fuse_get_context()->pid;
	unsigned h = (unsigned)tid % 64;
	char path[64], comm[32] = "";

	if (tid_cache[h] == tid)
		return cls_cache[h];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)tid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (f && !fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	tid_cache[h] = tid;
	cls_cache[h] = strncmp(comm, "iou-", 4) == 0;
	return cls_cache[h];
}

/* Called first by every operation that changes or syncs something: counts
 * it, fails it once the power is off, and fires the triggers: --cut-at cuts
 * before the operation takes effect, --cut-after once it has (plfs_done()
 * then answers EIO instead of its result).  The first trigger to fire wins. */
static int
plfs_gate(enum plfs_op op, const char *name1, const char *name2)
{
	if (P.cut)
		return -EIO;
	int who = plfs_requester();
	P.count[op][who]++;
	P.fcount[op][plfs_class(name1)][who]++;
	plfs_log("%s %s%s%s", plfs_op_names[op], name1, name2 ? " " : "", name2 ? name2 : "");
	for (unsigned i = 0; i < P.ntrig && !P.after; i++) {
		struct plfs_trigger *t = &P.trig[i];
		if (!(t->ops & 1u << op) || t->seen >= t->n)
			continue;
		if (t->pattern && fnmatch(t->pattern, name1, 0) != 0 &&
		    (!name2 || fnmatch(t->pattern, name2, 0) != 0))
			continue;
		if (++t->seen < t->n)
			continue;
		snprintf(P.after_name, sizeof(P.after_name), "%s", name1);
		P.after_op = op;
		P.after = t;
		if (!t->after) {
			plfs_cut("trigger");
			return -EIO;
		}
	}
	return 0;
}

static int
plfs_done(int r)
{
	if (P.after && !P.cut) {
		plfs_cut("trigger");
		return -EIO;
	}
	return r;
}

#define HANDLE(fi) ((struct plfs_handle *)(uintptr_t)(fi)->fh)

/* ---- FUSE operations ----------------------------------------------------- */

static void *
plfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* no kernel write-back cache: every write reaches us when it is made */
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	cfg->use_ino = 1;
	cfg->hard_remove = 1; /* unlink really unlinks, also while open */
	cfg->nullpath_ok = 1;
	cfg->entry_timeout = cfg->attr_timeout = cfg->negative_timeout = 0;
	cfg->kernel_cache = cfg->auto_cache = cfg->direct_io = 0;
	return NULL;
}

static int
plfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	int r = fi ? fstat(HANDLE(fi)->fd, st) : fstatat(P.bfd, plfs_rel(path), st,
							   AT_SYMLINK_NOFOLLOW);
	return r < 0 ? -errno : 0;
}

static int
plfs_access(const char *path, int mask)
{
	return faccessat(P.bfd, plfs_rel(path), mask, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int
plfs_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(P.bfd, plfs_rel(path), buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The common end of create, mknod, mkdir, symlink: record the new object and
 * its entry, pending until the directory is synced. */
static int
plfs_created(const char *path, struct plfs_obj *parent, const char *target)
{
	struct stat st;

	if (fstatat(P.bfd, plfs_rel(path), &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	struct plfs_obj *o = plfs_obj_new(&st, plfs_base(path), true);
	if (target)
		o->target = plfs_strdup(target);
	plfs_dirop_add(parent, plfs_base(path), o, ++P.next_group);
	plfs_log("new %s id %" PRIu64, path, o->id);
	return 0;
}

static int
plfs_mknod(const char *path, mode_t mode, dev_t rdev)
{
	struct plfs_obj *parent = plfs_parent(path);
	int r = plfs_gate(OP_MKNOD, plfs_base(path), NULL);

	if (r == 0 && !parent)
		r = -ENOENT;
	if (r == 0)
		r = mknodat(P.bfd, plfs_rel(path), mode, rdev) < 0 ? -errno
								    : plfs_created(path, parent, NULL);
	return plfs_done(r);
}

static int
plfs_mkdir(const char *path, mode_t mode)
{
	struct plfs_obj *parent = plfs_parent(path);
	int r = plfs_gate(OP_MKDIR, plfs_base(path), NULL);

	if (r == 0 && !parent)
		r = -ENOENT;
	if (r == 0)
		r = mkdirat(P.bfd, plfs_rel(path), mode) < 0 ? -errno
							     : plfs_created(path, parent, NULL);
	return plfs_done(r);
}

static int
plfs_symlink(const char *target, const char *path)
{
	struct plfs_obj *parent = plfs_parent(path);
	int r = plfs_gate(OP_SYMLINK, plfs_base(path), NULL);

	if (r == 0 && !parent)
		r = -ENOENT;
	if (r == 0)
		r = symlinkat(target, P.bfd, plfs_rel(path)) < 0 ? -errno
								 : plfs_created(path, parent, target);
	return plfs_done(r);
}

/* The name rel of object o is about to go: if it is the inode's last name,
 * keep its durable data (the backing inode is about to disappear). */
static int
plfs_losing_name(struct plfs_obj *o, const struct stat *st, const char *rel)
{
	if (o->type == OBJ_DIR || st->st_nlink <= 1)
		return plfs_image_ensure(o, -1, rel);
	return 0;
}

static void
plfs_lost_name(struct plfs_obj *o, const struct stat *st)
{
	if (o->type == OBJ_DIR || st->st_nlink <= 1)
		plfs_obj_unlink_last(o);
}

static int
plfs_remove(const char *path, enum plfs_op op)
{
	struct stat st;
	struct plfs_obj *parent = plfs_parent(path), *o = plfs_obj_at(path, &st);
	int r = plfs_gate(op, plfs_base(path), NULL);

	if (r == 0 && (!parent || !o))
		r = -ENOENT;
	if (r == 0)
		r = plfs_losing_name(o, &st, plfs_rel(path));
	if (r == 0 && unlinkat(P.bfd, plfs_rel(path), op == OP_RMDIR ? AT_REMOVEDIR : 0) < 0)
		r = -errno;
	if (r == 0) {
		plfs_lost_name(o, &st);
		plfs_dirop_add(parent, plfs_base(path), NULL, ++P.next_group);
	}
	return plfs_done(r);
}

static int
plfs_unlink(const char *path)
{
	return plfs_remove(path, OP_UNLINK);
}

static int
plfs_rmdir(const char *path)
{
	return plfs_remove(path, OP_RMDIR);
}

/* rename(2) and renameat2(2) with RENAME_NOREPLACE / RENAME_EXCHANGE.  Within
 * one directory the change is one atomic group; across two directories each
 * directory's half becomes durable with that directory's fsync. */
static int
plfs_rename(const char *from, const char *to, unsigned int flags)
{
	struct stat sa, sb;
	struct plfs_obj *pa = plfs_parent(from), *pb = plfs_parent(to);
	struct plfs_obj *a = plfs_obj_at(from, &sa), *b = plfs_obj_at(to, &sb);
	int r = plfs_gate(OP_RENAME, plfs_base(from), plfs_base(to));

	if (r == 0 && (!pa || !pb || !a))
		r = -ENOENT;
	if (r == 0 && b && b != a && !(flags & RENAME_EXCHANGE) && !(flags & RENAME_NOREPLACE))
		r = plfs_losing_name(b, &sb, plfs_rel(to));
	if (r == 0 && renameat2(P.bfd, plfs_rel(from), P.bfd, plfs_rel(to), flags) < 0)
		r = -errno;
	if (r == 0 && a != b) {
		unsigned g = ++P.next_group;
		if (b && !(flags & RENAME_EXCHANGE))
			plfs_lost_name(b, &sb);
		plfs_dirop_add(pb, plfs_base(to), a, g);
		plfs_dirop_add(pa, plfs_base(from), flags & RENAME_EXCHANGE ? b : NULL,
			       pa == pb ? g : ++P.next_group);
		free(a->name);
		a->name = plfs_strdup(plfs_base(to));
		if (flags & RENAME_EXCHANGE) {
			free(b->name);
			b->name = plfs_strdup(plfs_base(from));
		}
	}
	return plfs_done(r);
}

static int
plfs_link(const char *from, const char *to)
{
	struct plfs_obj *o = plfs_obj_at(from, NULL), *parent = plfs_parent(to);
	int r = plfs_gate(OP_LINK, plfs_base(to), plfs_base(from));

	if (r == 0 && (!o || !parent))
		r = -ENOENT;
	if (r == 0 && linkat(P.bfd, plfs_rel(from), P.bfd, plfs_rel(to), 0) < 0)
		r = -errno;
	if (r == 0)
		plfs_dirop_add(parent, plfs_base(to), o, ++P.next_group);
	return plfs_done(r);
}

/* chmod is not modelled as loss (see README): it passes through and the mode
 * is kept for the files the cut rebuilds. */
static int
plfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct plfs_obj *o = fi ? HANDLE(fi)->obj : plfs_obj_at(path, NULL);
	int r = plfs_gate(OP_CHMOD, o ? o->name : "", NULL);

	if (r == 0)
		r = (fi ? fchmod(HANDLE(fi)->fd, mode)
			: fchmodat(P.bfd, plfs_rel(path), mode, 0)) < 0 ? -errno : 0;
	if (r == 0 && o)
		o->mode = (o->mode & S_IFMT) | (mode & 07777);
	return plfs_done(r);
}

static int
plfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	if (P.cut)
		return -EIO;
	int r = fi ? fchown(HANDLE(fi)->fd, uid, gid)
		   : fchownat(P.bfd, plfs_rel(path), uid, gid, AT_SYMLINK_NOFOLLOW);
	return r < 0 ? -errno : 0;
}

static int
plfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	if (P.cut)
		return -EIO;
	int r = fi ? futimens(HANDLE(fi)->fd, tv)
		   : utimensat(P.bfd, plfs_rel(path), tv, AT_SYMLINK_NOFOLLOW);
	return r < 0 ? -errno : 0;
}

/* A size change (truncate, ftruncate, O_TRUNC) of o, open as fd. */
static int
plfs_setsize(struct plfs_obj *o, int fd, off_t size)
{
	int r = plfs_gate(OP_TRUNCATE, o->name, NULL);

	if (r == 0)
		r = plfs_image_ensure(o, fd, NULL);
	if (r == 0 && ftruncate(fd, size) < 0)
		r = -errno;
	if (r == 0)
		plfs_dataop_add(o, size, NULL, 0, true);
	return plfs_done(r);
}

static int
plfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	if (fi)
		return plfs_setsize(HANDLE(fi)->obj, HANDLE(fi)->fd, size);
	struct plfs_obj *o = plfs_obj_at(path, NULL);
	if (!o)
		return -ENOENT;
	_cleanup_close_ int fd = openat(P.bfd, plfs_rel(path), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return plfs_setsize(o, fd, size);
}

static int
plfs_handle_new(struct fuse_file_info *fi, int fd, struct plfs_obj *o)
{
	struct plfs_handle *h = plfs_alloc(sizeof(*h));

	h->fd = fd;
	h->obj = o;
	h->next = P.handles;
	h->pprev = &P.handles;
	if (P.handles)
		P.handles->pprev = &h->next;
	P.handles = h;
	fi->fh = (uintptr_t)h;
	fi->direct_io = 0;
	fi->keep_cache = 0;
	return 0;
}

/* open and create: the backing descriptor is opened without O_APPEND (the
 * kernel passes the offset of every write) and O_TRUNC is a size change. */
static int
plfs_open_common(const char *path, struct fuse_file_info *fi, bool create, mode_t mode)
{
	struct stat st;
	bool existed = fstatat(P.bfd, plfs_rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0;
	struct plfs_obj *parent = plfs_parent(path);
	int flags = fi->flags & ~(O_APPEND | O_TRUNC | O_EXCL | O_CREAT | O_DIRECT | O_NOCTTY);
	int r = 0;

	if (create && !existed) {
		r = plfs_gate(OP_CREATE, plfs_base(path), NULL);
		if (r == 0 && !parent)
			r = -ENOENT;
		if (r < 0)
			return plfs_done(r);
		int fd = openat(P.bfd, plfs_rel(path), flags | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd < 0)
			return plfs_done(-errno);
		r = plfs_created(path, parent, NULL);
		if (r < 0) {
			close(fd);
			return plfs_done(r);
		}
		return plfs_done(plfs_handle_new(fi, fd, plfs_obj_at(path, NULL)));
	}
	if (create && (fi->flags & O_EXCL))
		return -EEXIST;
	if (!existed)
		return -ENOENT;
	struct plfs_obj *o = plfs_obj_at(path, NULL);
	int fd = openat(P.bfd, plfs_rel(path), flags | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if ((fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY && st.st_size > 0)
		r = plfs_setsize(o, fd, 0);
	if (r < 0) {
		close(fd);
		return r;
	}
	return plfs_handle_new(fi, fd, o);
}

static int
plfs_open(const char *path, struct fuse_file_info *fi)
{
	return plfs_open_common(path, fi, false, 0);
}

static int
plfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return plfs_open_common(path, fi, true, mode);
}

static int
plfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	if (P.cut)
		return -EIO;
	ssize_t n = pread(HANDLE(fi)->fd, buf, size, off);
	return n < 0 ? -errno : (int)n;
}

static int
plfs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct plfs_handle *h = HANDLE(fi);
	int r = plfs_gate(OP_WRITE, h->obj->name, NULL);

	if (r == 0)
		r = plfs_image_ensure(h->obj, h->fd, NULL);
	if (r == 0) {
		ssize_t n = pwrite(h->fd, buf, size, off);
		r = n < 0 ? -errno : (int)n;
		if (n > 0) {
			plfs_dataop_add(h->obj, off, buf, (size_t)n, false);
			P.bytes[plfs_requester()] += (uint64_t)n;
		}
	}
	return plfs_done(r);
}

static int
plfs_statfs(const char *path, struct statvfs *st)
{
	return fstatvfs(P.bfd, st) < 0 ? -errno : 0;
}

static int
plfs_flush(const char *path, struct fuse_file_info *fi)
{
	return P.cut ? -EIO : 0;
}

static int
plfs_release(const char *path, struct fuse_file_info *fi)
{
	struct plfs_handle *h = HANDLE(fi);

	*h->pprev = h->next;
	if (h->next)
		h->next->pprev = h->pprev;
	safe_close(h->fd);
	free(h);
	return 0;
}

/* The backing file is not fsynced: the host does not lose power, the model
 * does. */
static int
plfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct plfs_obj *o = HANDLE(fi)->obj;
	int r = plfs_gate(datasync ? OP_FDATASYNC : OP_FSYNC, o->name, NULL);

	if (r == 0)
		r = plfs_obj_sync(o);
	return plfs_done(r);
}

static int
plfs_opendir(const char *path, struct fuse_file_info *fi)
{
	struct plfs_obj *o = plfs_obj_at(path, NULL);
	int fd = openat(P.bfd, plfs_rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return plfs_handle_new(fi, fd, o);
}

static int
plfs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
	     struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	int fd = dup(HANDLE(fi)->fd);
	if (fd < 0)
		return -errno;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	for (struct dirent *de; (de = readdir(d));) {
		struct stat st = { .st_ino = de->d_ino, .st_mode = (mode_t)DTTOIF(de->d_type) };
		if (fill(buf, de->d_name, &st, 0, 0))
			break;
	}
	return 0;
}

static int
plfs_releasedir(const char *path, struct fuse_file_info *fi)
{
	return plfs_release(path, fi);
}

static int
plfs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct plfs_obj *o = HANDLE(fi)->obj;
	int r = plfs_gate(OP_FSYNCDIR, o ? o->name : "", NULL);

	if (r == 0 && o)
		plfs_dir_sync(o);
	return plfs_done(r);
}

static const struct fuse_operations plfs_ops = {
	.init = plfs_init,
	.getattr = plfs_getattr,
	.access = plfs_access,
	.readlink = plfs_readlink,
	.mknod = plfs_mknod,
	.mkdir = plfs_mkdir,
	.symlink = plfs_symlink,
	.unlink = plfs_unlink,
	.rmdir = plfs_rmdir,
	.rename = plfs_rename,
	.link = plfs_link,
	.chmod = plfs_chmod,
	.chown = plfs_chown,
	.utimens = plfs_utimens,
	.truncate = plfs_truncate,
	.open = plfs_open,
	.create = plfs_create,
	.read = plfs_read,
	.write = plfs_write,
	.statfs = plfs_statfs,
	.flush = plfs_flush,
	.release = plfs_release,
	.fsync = plfs_fsync,
	.opendir = plfs_opendir,
	.readdir = plfs_readdir,
	.releasedir = plfs_releasedir,
	.fsyncdir = plfs_fsyncdir,
};

/* ---- the cut ---------------------------------------------------------------- */

/* Which pending changes survive.  Directory changes by group: strict none,
 * torn a prefix of all groups in issue order, reordered each group with
 * probability p.  Data: per file, its writes split at block boundaries plus
 * its size changes, in issue order, are "units"; strict keeps none, torn a
 * prefix, reordered each unit with probability p (drawn from a per-file seed,
 * so the choice does not depend on the order the tree is rebuilt in). */
static void
plfs_cut_choose(void)
{
	unsigned ngroups = 0, last = 0, keep;

	if (!P.block)
		P.block = plfs_rand(&P.rng) & 1 ? 4096 : 512;
	P.p = P.model == MODEL_REORDERED ? plfs_uniform(&P.rng) : 0;
	for (struct plfs_dirop *d = P.dops; d; d = d->next)
		if (d->group != last) {
			ngroups++;
			last = d->group;
		}
	keep = P.model == MODEL_TORN ? (unsigned)(plfs_rand(&P.rng) % (ngroups + 1)) : 0;
	bool survives = false;
	last = 0;
	for (struct plfs_dirop *d = P.dops; d; d = d->next) {
		if (d->group != last) {
			last = d->group;
			if (P.model == MODEL_TORN)
				survives = keep > 0 && keep--;
			else
				survives = P.model == MODEL_REORDERED && plfs_uniform(&P.rng) < P.p;
		}
		d->survives = survives;
		P.dirops++;
		P.dirops_kept += survives;
	}
	for (struct plfs_obj *o = P.all; o; o = o->next_all) {
		uint64_t units = 0;
		for (struct plfs_dataop *d = o->ops; d; d = d->next)
			units += d->setsize ? 1 : (uint64_t)((d->off + (off_t)d->len - 1) / P.block -
							     d->off / P.block + 1);
		for (struct plfs_dataop *d = o->ops; d; d = d->next)
			P.ubytes += d->len;
		P.units += units;
		o->keep_units = P.model == MODEL_TORN ? plfs_rand(&P.rng) % (units + 1) : 0;
		o->seed = plfs_rand(&P.rng);
	}
}

/* Whether unit number idx of o survives (rng: o's own sequence). */
static bool
plfs_unit_kept(const struct plfs_obj *o, uint64_t idx, uint64_t *rng)
{
	if (P.model == MODEL_TORN)
		return idx < o->keep_units;
	return P.model == MODEL_REORDERED && plfs_uniform(rng) < P.p;
}

/* Writes what survives of o's pending data into fd (which holds the durable
 * image), unit by unit: a size change is one unit, a write one unit per block
 * it touches (pieces end at file offsets that are multiples of the block). */
static int
plfs_cut_data(struct plfs_obj *o, int fd)
{
	uint64_t idx = 0, rng = o->seed;
	int r = 0;

	for (struct plfs_dataop *d = o->ops; d && r == 0; d = d->next) {
		off_t end = d->off + (off_t)d->len;
		if (d->setsize) {
			bool keep = plfs_unit_kept(o, idx++, &rng);
			P.units_kept += keep;
			if (keep)
				r = plfs_dataop_apply(fd, d, 0, 0);
			continue;
		}
		for (off_t a = d->off, b; a < end && r == 0; a = b) {
			b = (a / P.block + 1) * P.block;
			b = b > end ? end : b;
			bool keep = plfs_unit_kept(o, idx++, &rng);
			if (!keep)
				continue;
			P.units_kept++;
			P.ubytes_kept += (uint64_t)(b - a);
			r = plfs_dataop_apply(fd, d, a, b);
		}
	}
	return r;
}

/* The content of regular file o after the cut, as new file name in dfd. */
static int
plfs_cut_file(struct plfs_obj *o, int dfd, const char *name)
{
	char img[32];
	struct stat st;

	if (!o->ops && o->live && o->bpath)
		return linkat(P.bfd, o->bpath, dfd, name, 0) < 0 ? -errno : 0;
	_cleanup_close_ int fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	plfs_image_name(o, img);
	_cleanup_close_ int src = o->has_image ? openat(P.sfd, img, O_RDONLY | O_CLOEXEC)
			      : o->live && o->bpath ? openat(P.bfd, o->bpath, O_RDONLY | O_CLOEXEC)
						    : -EBADF;
	if (src >= 0) {
		int r = plfs_copy_fd(src, fd);
		if (r < 0)
			return r;
	}
	int r = plfs_cut_data(o, fd);
	if (r < 0)
		return r;
	if (src >= 0 && fstat(src, &st) == 0)
		(void)futimens(fd, (struct timespec[2]){ st.st_atim, st.st_mtim });
	return fchmod(fd, o->mode & 07777) < 0 ? -errno : 0;
}

/* Rebuilds o as name in dfd (path: its path below the post-crash root). */
static int
plfs_cut_obj(struct plfs_obj *o, int dfd, const char *name, const char *path)
{
	int r = 0;

	if (o->post_path && o->type == OBJ_DIR)
		return 0; /* a directory reachable twice (reordered renames): once */
	if (o->post_path)
		return linkat(P.postfd, o->post_path, dfd, name, 0) < 0 ? -errno : 0;
	o->post_path = plfs_strdup(path);
	switch (o->type) {
	case OBJ_FILE:
		return plfs_cut_file(o, dfd, name);
	case OBJ_LINK:
		return symlinkat(o->target ? o->target : "", dfd, name) < 0 ? -errno : 0;
	case OBJ_SPECIAL:
		return mknodat(dfd, name, o->mode, o->rdev) < 0 ? -errno : 0;
	case OBJ_DIR:
		break;
	}
	if (mkdirat(dfd, name, o->mode & 07777) < 0)
		return -errno;
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (struct plfs_entry *e = o->final; e && r == 0; e = e->next) {
		_cleanup_free_ char *sub = NULL;
		if (asprintf(&sub, "%s/%s", path, e->name) < 0)
			return -ENOMEM;
		r = plfs_cut_obj(e->obj, fd, e->name, sub);
	}
	return r;
}

/* Notes the backing path of every regular file by inode (the files whose
 * data is all durable are linked into the post-crash tree from there). */
static void
plfs_cut_bpaths(int dfd, const char *path)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		safe_close(fd);
		return;
	}
	for (struct dirent *de; (de = readdir(d));) {
		struct stat st;
		_cleanup_free_ char *sub = NULL;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    asprintf(&sub, "%s%s%s", path, *path ? "/" : "", de->d_name) < 0)
			continue;
		struct plfs_obj *o = plfs_obj_find(st.st_ino);
		if (S_ISREG(st.st_mode) && o && !o->bpath)
			o->bpath = TAKE_PTR(sub);
		else if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int sfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
						       O_NOFOLLOW | O_CLOEXEC);
			if (sfd >= 0)
				plfs_cut_bpaths(sfd, sub);
		}
	}
}

/* Removes everything below dfd. */
static int
plfs_tree_clear(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
	_cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d)
		return safe_close(fd), -errno;
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			continue;
		if (errno != EISDIR && errno != EPERM) {
			r = -errno;
			continue;
		}
		_cleanup_close_ int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
						 O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || plfs_tree_clear(sub) < 0 || unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0)
			r = -errno;
	}
	return r;
}

/* Moves every entry of from into to (same filesystem). */
static int
plfs_tree_move(int from, int to)
{
	int fd = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d)
		return safe_close(fd), -errno;
	for (struct dirent *de; (de = readdir(d));)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    renameat(from, de->d_name, to, de->d_name) < 0)
			return -errno;
	return 0;
}

/* The final entries of every directory: its durable entries, then the
 * surviving pending changes in issue order. */
static void
plfs_cut_entries(void)
{
	for (struct plfs_obj *o = P.all; o; o = o->next_all)
		for (struct plfs_entry *e = o->durable; e; e = e->next)
			plfs_entry_set(&o->final, e->name, e->obj);
	for (struct plfs_dirop *d = P.dops; d; d = d->next)
		if (d->survives)
			plfs_entry_set(&d->dir->final, d->name, d->target);
}

/* The power goes: every further operation fails (P.cut), the backing
 * directory becomes what the model lets survive, the session ends. */
static void
plfs_cut(const char *why)
{
	int r;

	P.cut = true;
	if (P.after)
		snprintf(P.cut_desc, sizeof(P.cut_desc), "%s %s %s %s", why, P.after->spec,
			 plfs_op_names[P.after_op], P.after_name);
	else
		snprintf(P.cut_desc, sizeof(P.cut_desc), "%s", why);
	plfs_cut_choose();
	plfs_cut_entries();
	plfs_cut_bpaths(P.bfd, "");
	(void)unlinkat(P.sfd, "post", AT_REMOVEDIR);
	r = mkdirat(P.sfd, "post", 0700) < 0 ? -errno : 0;
	P.postfd = r < 0 ? -EBADF : openat(P.sfd, "post", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (struct plfs_entry *e = P.root->final; e && r == 0 && P.postfd >= 0; e = e->next)
		r = plfs_cut_obj(e->obj, P.postfd, e->name, e->name);
	if (r == 0 && P.postfd >= 0)
		r = plfs_tree_clear(P.bfd);
	if (r == 0 && P.postfd >= 0)
		r = plfs_tree_move(P.postfd, P.bfd);
	if (r < 0 || P.postfd < 0) {
		fprintf(stderr, "plfs: rebuilding the post-crash state failed: %s\n",
			strerror(r < 0 ? -r : errno));
		P.cut_failed = true;
	}
	for (struct plfs_obj *o = P.all; o; o = o->next_all)
		P.objs_lost += !o->post_path && o != P.root;
	fprintf(stderr, "plfs: cut (%s), model %s seed %" PRIu64 ": directory changes kept %" PRIu64
		"/%" PRIu64 ", data units kept %" PRIu64 "/%" PRIu64 " (%" PRIu64 "/%" PRIu64
		" bytes)\n", P.cut_desc, plfs_model_names[P.model], P.seed, P.dirops_kept, P.dirops,
		P.units_kept, P.units, P.ubytes_kept, P.ubytes);
	fuse_session_exit(P.se);
}

/* ---- start-up: the durable state is what the backing directory holds ---- */

static int
plfs_scan(int dfd, struct plfs_obj *dir)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
	_cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d)
		return safe_close(fd), -errno;
	for (struct dirent *de; (de = readdir(d)) && r == 0;) {
		struct stat st;
		char target[PATH_MAX];
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		struct plfs_obj *o = plfs_obj_find(st.st_ino);
		if (!o)
			o = plfs_obj_new(&st, de->d_name, false);
		plfs_entry_set(&dir->durable, de->d_name, o);
		if (o->type == OBJ_LINK) {
			ssize_t n = readlinkat(dfd, de->d_name, target, sizeof(target) - 1);
			target[n < 0 ? 0 : n] = '\0';
			free(o->target);
			o->target = plfs_strdup(target);
		} else if (o->type == OBJ_DIR) {
			_cleanup_close_ int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
							 O_NOFOLLOW | O_CLOEXEC);
			r = sub < 0 ? -errno : plfs_scan(sub, o);
		}
	}
	return r;
}

/* --cut-at / --cut-after OP[:PATTERN]:N */
static int
plfs_trigger_parse(const char *spec, bool after)
{
	_cleanup_free_ char *s = plfs_strdup(spec);
	char *op = s, *last = strrchr(s, ':'), *pat = strchr(s, ':'), *end;

	if (P.ntrig == PLFS_TRIGGERS || !last)
		return -EINVAL;
	struct plfs_trigger *t = &P.trig[P.ntrig];
	*last = '\0';
	t->n = strtoul(last + 1, &end, 10);
	if (*end || t->n == 0)
		return -EINVAL;
	if (pat != last) {
		*pat = '\0';
		t->pattern = plfs_strdup(pat + 1);
	}
	for (unsigned i = 0; i < OP__MAX; i++)
		if (!strcmp(op, plfs_op_names[i]) || !strcmp(op, "any") ||
		    (!strcmp(op, "fsync") && i == OP_FDATASYNC) ||
		    (!strcmp(op, "create") && i == OP_MKNOD))
			t->ops |= 1u << i;
	if (!t->ops)
		return -EINVAL;
	t->spec = plfs_strdup(spec);
	t->after = after;
	P.ntrig++;
	return 0;
}

/* One command from the control FIFO: "cut", "disarm" (forget every trigger
 * that has not fired), "arm at SPEC" or "arm after SPEC" (a trigger counting
 * from now).  Returns true after a cut. */
static bool
plfs_command(char *line)
{
	if (!strcmp(line, "cut")) {
		plfs_cut("control");
		return true;
	}
	if (!strcmp(line, "disarm")) {
		for (unsigned i = 0; i < P.ntrig; i++) {
			free(P.trig[i].pattern);
			free((char *)P.trig[i].spec);
		}
		memset(P.trig, 0, sizeof(P.trig));
		P.ntrig = 0;
	} else if (!strncmp(line, "arm at ", 7) || !strncmp(line, "arm after ", 10)) {
		bool after = line[5] == 'f';
		if (plfs_trigger_parse(line + (after ? 10 : 7), after) < 0)
			fprintf(stderr, "plfs: bad control command \"%s\"\n", line);
	} else if (*line) {
		fprintf(stderr, "plfs: unknown control command \"%s\"\n", line);
	}
	return false;
}

/* Reads what is in the control FIFO and runs its complete lines. */
static bool
plfs_control(void)
{
	ssize_t n = read(P.ctlfd, P.ctl + P.ctl_len, sizeof(P.ctl) - 1 - P.ctl_len);
	char *nl;

	if (n <= 0)
		return false;
	P.ctl_len += (size_t)n;
	P.ctl[P.ctl_len] = '\0';
	while ((nl = strchr(P.ctl, '\n'))) {
		*nl = '\0';
		if (plfs_command(P.ctl))
			return true;
		P.ctl_len -= (size_t)(nl + 1 - P.ctl);
		memmove(P.ctl, nl + 1, P.ctl_len + 1);
	}
	if (P.ctl_len == sizeof(P.ctl) - 1)
		P.ctl_len = 0; /* a line too long for anyone: dropped */
	return false;
}

static void
plfs_sigusr1(int sig)
{
	int saved = errno;
	(void)!write(P.sigpipe[1], "c", 1);
	errno = saved;
}

static void
plfs_write_stats(bool cut)
{
	_cleanup_fclose_ FILE *f = P.stats ? fopen(P.stats, "we") : NULL;

	if (!f)
		return;
	fprintf(f, "model %s\nseed %" PRIu64 "\ncut %d\n", plfs_model_names[P.model], P.seed, cut);
	if (cut)
		fprintf(f, "cut_how %s\nblock %u\np %.3f\ndirops %" PRIu64 "\ndirops_kept %" PRIu64
			"\nunits %" PRIu64 "\nunits_kept %" PRIu64 "\nunit_bytes %" PRIu64
			"\nunit_bytes_kept %" PRIu64 "\nobjects_not_rebuilt %" PRIu64 "\nrebuild_failed %d\n",
			P.cut_desc, P.block, P.p, P.dirops, P.dirops_kept, P.units, P.units_kept,
			P.ubytes, P.ubytes_kept, P.objs_lost, P.cut_failed);
	for (unsigned i = 0; i < OP__MAX; i++)
		fprintf(f, "op %s %" PRIu64 " %" PRIu64 "\n", plfs_op_names[i], P.count[i][0],
			P.count[i][1]);
	fprintf(f, "op write_bytes %" PRIu64 " %" PRIu64 "\n", P.bytes[0], P.bytes[1]);
	for (unsigned i = 0; i < OP__MAX; i++)
		for (unsigned c = 0; c < CLS__MAX; c++)
			if (P.fcount[i][c][0] || P.fcount[i][c][1])
				fprintf(f, "file %s %s %" PRIu64 " %" PRIu64 "\n", plfs_op_names[i],
					plfs_class_names[c], P.fcount[i][c][0], P.fcount[i][c][1]);
}

/* The session loop: one request at a time; between two requests a cut by
 * SIGUSR1 (its handler only writes to a pipe that the loop polls) or a
 * control command.  The control FIFO is read before the next request, so a
 * command takes effect before any request made after it was written. */
static void
plfs_loop(void)
{
	struct fuse_buf buf = { 0 };

	while (!fuse_session_exited(P.se)) {
		struct pollfd pfd[3] = { { .fd = fuse_session_fd(P.se), .events = POLLIN },
					 { .fd = P.sigpipe[0], .events = POLLIN },
					 { .fd = P.ctlfd, .events = POLLIN } };
		if (poll(pfd, P.ctlfd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents) {
			plfs_cut("signal");
			break;
		}
		if (P.ctlfd >= 0 && (pfd[2].revents & POLLIN) && plfs_control())
			break;
		if (!(pfd[0].revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		int r = fuse_session_receive_buf(P.se, &buf);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r <= 0)
			break;
		fuse_session_process_buf(P.se, &buf);
	}
	free(buf.mem);
}

static int
plfs_usage(void)
{
	fputs("usage: plfs [--model strict|torn|reordered] [--seed N] [--block 512|4096]\n"
	      "            [--shadow DIR] [--cut-at OP[:PATTERN]:N]... [--cut-after OP[:PATTERN]:N]...\n"
	      "            [--control FIFO] [--stats FILE] [--log FILE] BACKING MOUNTPOINT\n"
	      "OP: write truncate fsync fdatasync fsyncdir create mknod mkdir unlink rmdir\n"
	      "    rename link symlink chmod any\n", stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' }, { "seed", required_argument, NULL, 's' },
		{ "block", required_argument, NULL, 'b' }, { "shadow", required_argument, NULL, 'S' },
		{ "cut-at", required_argument, NULL, 'a' }, { "cut-after", required_argument, NULL, 'A' },
		{ "stats", required_argument, NULL, 't' }, { "log", required_argument, NULL, 'l' },
		{ "control", required_argument, NULL, 'c' }, { 0 } };
	const char *shadow = NULL;
	_cleanup_free_ char *shadow_default = NULL;
	struct stat bst, sst;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			for (P.model = 0; P.model < 3 && strcmp(optarg, plfs_model_names[P.model]);)
				P.model++;
			if (P.model == 3)
				return plfs_usage();
			break;
		case 's':
			P.seed = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			P.block = (unsigned)atoi(optarg);
			if (P.block != 512 && P.block != 4096)
				return plfs_usage();
			break;
		case 'S':
			shadow = optarg;
			break;
		case 'a':
		case 'A':
			if (plfs_trigger_parse(optarg, c == 'A') < 0) {
				fprintf(stderr, "plfs: bad cut point \"%s\"\n", optarg);
				return plfs_usage();
			}
			break;
		case 't':
			P.stats = optarg;
			break;
		case 'c':
			/* O_RDWR: writers never block, and plfs never sees an end */
			if ((mkfifo(optarg, 0600) < 0 && errno != EEXIST) ||
			    (P.ctlfd = open(optarg, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
				fprintf(stderr, "plfs: control FIFO %s: %m\n", optarg);
				return 1;
			}
			break;
		case 'l':
			P.log = fopen(optarg, "we");
			break;
		default:
			return plfs_usage();
		}
	}
	if (argc - optind != 2)
		return plfs_usage();
	P.rng = P.seed;
	if (!shadow && asprintf(&shadow_default, "%s.plfs-shadow", argv[optind]) < 0)
		return 1;
	shadow = shadow ? shadow : shadow_default;
	P.bfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	(void)mkdir(shadow, 0700);
	P.sfd = open(shadow, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (P.bfd < 0 || P.sfd < 0 || fstat(P.bfd, &bst) < 0 || fstat(P.sfd, &sst) < 0) {
		fprintf(stderr, "plfs: %s or %s: %m\n", argv[optind], shadow);
		return 1;
	}
	_cleanup_free_ char *rb = realpath(argv[optind], NULL), *rs = realpath(shadow, NULL);
	if (!rb || !rs || (strncmp(rs, rb, strlen(rb)) == 0 && rs[strlen(rb)] == '/')) {
		fprintf(stderr, "plfs: the shadow %s must not be inside %s\n", shadow, argv[optind]);
		return 1;
	}
	if (bst.st_dev != sst.st_dev) {
		fprintf(stderr, "plfs: the shadow %s must be on the filesystem of %s\n", shadow,
			argv[optind]);
		return 1;
	}
	if (plfs_tree_clear(P.sfd) < 0 || pipe2(P.sigpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr, "plfs: preparing %s: %m\n", shadow);
		return 1;
	}
	P.root = plfs_obj_new(&bst, "/", false);
	if (plfs_scan(P.bfd, P.root) < 0) {
		fprintf(stderr, "plfs: reading %s: %m\n", argv[optind]);
		return 1;
	}

	char *fargv[] = { argv[0], "-o", "fsname=plfs,subtype=plfs,default_permissions", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse *f = fuse_new(&args, &plfs_ops, sizeof(plfs_ops), NULL);
	if (!f || fuse_mount(f, argv[optind + 1]) != 0) {
		fprintf(stderr, "plfs: cannot mount on %s\n", argv[optind + 1]);
		return 1;
	}
	P.se = fuse_get_session(f);
	fuse_set_signal_handlers(P.se);
	struct sigaction sa = { .sa_handler = plfs_sigusr1 };
	sigaction(SIGUSR1, &sa, NULL);
	fprintf(stderr, "plfs: mounted %s on %s (model %s, seed %" PRIu64 ")\n", argv[optind],
		argv[optind + 1], plfs_model_names[P.model], P.seed);
	plfs_loop();
	fuse_remove_signal_handlers(P.se);
	fuse_unmount(f);
	fuse_destroy(f);
	fuse_opt_free_args(&args);
	while (P.handles) { /* still open at the cut: never released */
		struct plfs_handle *h = P.handles;
		P.handles = h->next;
		safe_close(h->fd);
		free(h);
	}
	plfs_write_stats(P.cut);
	if (P.log)
		fclose(P.log);
	return P.cut_failed ? 1 : 0;
}
