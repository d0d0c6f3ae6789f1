/* Retention (docs/design.md, "Retention"): the oldest sealed segments
 * removed, one at a time and each removal durable before the next, while
 * a rule of segdir_retention_pick() wants one gone -- max_segments,
 * max_bytes, max_age, keep_free -- with the shipper's progress in mind;
 * and store_vacuum(), the same on demand (seglog vacuum). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "crashpoint.h"
#include "log.h"
#include "store.h"
#include "store_internal.h"

void
store_set_ship(struct store *s, int (*shipped)(void *ctx, const struct store *s, uint64_t *ret_seq),
	       void *ctx, bool wait)
{
	s->ship_fn = shipped;
	s->ship_ctx = ctx;
	s->ship_wait = wait;
}

uint64_t
store_disk_free(const struct store *s)
{
	struct statvfs sv;
	if (fstatvfs(s->dir_fd, &sv) < 0)
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* Removes the oldest sealed segment, durably (why: for the log line). */
static int
store_remove_oldest(struct store *s, enum segdir_reason why)
{
	char name[SEGDIR_NAME_LEN + 1];
	int r;

	segdir_name(s->sealed[0].first_seq, name);
	CRASH_POINT("retention-unlink");
	r = s->ops->unlinkat(s->ops->ctx, s->dir_fd, name, 0);
	if (r < 0 && r != -ENOENT)
		return log_error_errno(r, "Failed to remove %s/%s: %m", s->path, name);
	/* each removal is durable before the next one starts: a power
	 * loss may keep unlinks of one directory in any order, and a
	 * newer segment gone while an older one survives would be a gap
	 * in the middle of the history, which must only ever mean damage
	 * (found by tests/powerloss, reordered model) */
	r = s->ops->fsync(s->ops->ctx, s->dir_fd, false);
	if (r < 0)
		return log_error_errno(r, "Failed to sync directory %s after removing %s: %m",
				       s->path, name);
	CRASH_POINT("retention-unlinked");
	log_info("Retention (%s) removed %s/%s (%llu bytes)", segdir_reason_name(why), s->path,
		 name, (unsigned long long)s->sealed[0].size);
	memmove(s->sealed, s->sealed + 1, (s->n_sealed - 1) * sizeof(*s->sealed));
	s->n_sealed--;
	s->removed_segments++;
	return 0;
}

/* Whether retention may remove the oldest sealed segment for why, with
 * the shipper's progress in mind: it always may for keep_free (a full disk
 * beats shipping) and without a shipper; with one, what it has not shipped
 * is kept if ship_wait (said once per segment), else removed with a
 * warning; either way what goes unshipped is counted. */
static bool
store_retention_may(struct store *s, enum segdir_reason why)
{
	uint64_t first = s->sealed[0].first_seq, shipped;
	uint64_t end = store_sealed_end(s, 0);

	if (!s->ship_fn || s->ship_fn(s->ship_ctx, s, &shipped) < 0 || end <= shipped + 1)
		return true;
	uint64_t from = first > shipped + 1 ? first : shipped + 1;
	if (s->ship_wait && why != SEGDIR_KEEP_FREE) {
		if (s->ship_held != first)
			log_notice("Retention (%s) keeps %s/%020llu.log and what follows: seqs "
				   "%llu..%llu are not shipped yet (the shipper's cursor is at %llu; "
				   "retention_waits_for_ship = yes)", segdir_reason_name(why),
				   s->path, (unsigned long long)first, (unsigned long long)from,
				   (unsigned long long)end - 1, (unsigned long long)shipped);
		s->ship_held = first;
		return false;
	}
	log_warning("Retention (%s): unshipped seqs %llu..%llu removed (the shipper's cursor is "
		    "at %llu%s)", segdir_reason_name(why), (unsigned long long)from,
		    (unsigned long long)end - 1, (unsigned long long)shipped,
		    why == SEGDIR_KEEP_FREE && s->ship_wait ? "; keep_free wins over "
		    "retention_waits_for_ship" : "");
	s->unshipped_removed += end - from;
	return true;
}

/* One segment at a time, the policy asked again after each removal (the
 * reason may change on the way: keep_free after max_segments, say). */
int
store_retention(struct store *s, uint64_t now_us)
{
	for (;;) {
		struct statvfs sv;
		enum segdir_reason why;
		int r;

		if (fstatvfs(s->dir_fd, &sv) < 0)
			return log_error_errno(errno, "Failed to statvfs %s: %m", s->path);
		if (segdir_retention_pick(s->sealed, s->n_sealed, &s->cfg.retention, now_us,
					  (uint64_t)sv.f_bavail * sv.f_frsize,
					  (uint64_t)sv.f_blocks * sv.f_frsize, &why) == 0)
			return 0;
		if (!store_retention_may(s, why)) {
			/* kept for the shipper: keep_free alone may still want it
			 * gone (the policy names only the first reason; a hostile
			 * test saw a full disk wedge with max_segments exceeded) */
			struct segdir_retention kf = {
				.keep_free_bytes = s->cfg.retention.keep_free_bytes,
				.keep_free_percent = s->cfg.retention.keep_free_percent,
			};
			if (!segdir_retention_pick(s->sealed, s->n_sealed, &kf, now_us,
						   (uint64_t)sv.f_bavail * sv.f_frsize,
						   (uint64_t)sv.f_blocks * sv.f_frsize, &why) ||
			    !store_retention_may(s, why))
				return 0;
		}
		r = store_remove_oldest(s, why);
		if (r < 0)
			return r;
	}
}

int
store_vacuum(struct store *s, const struct segdir_vacuum *v, uint64_t keep_from,
	     struct store_vacuum_result *ret)
{
	size_t k = segdir_vacuum_pick(s->sealed, s->n_sealed, v, store_now_us());

	*ret = (struct store_vacuum_result){ 0 };
	for (size_t i = 0; i < k; i++) {
		/* the oldest holds [its first seq, the next one's first seq) */
		uint64_t end = store_sealed_end(s, 0);
		if (keep_from && end > keep_from) {
			ret->kept_unshipped = k - i;
			break;
		}
		if (!ret->removed)
			ret->first = s->sealed[0].first_seq;
		ret->last = end - 1;
		ret->bytes += s->sealed[0].size;
		/* forced past the shipper: said and counted as retention does */
		uint64_t shipped;
		if (s->ship_fn && s->ship_fn(s->ship_ctx, s, &shipped) == 0 && end > shipped + 1) {
			uint64_t from = s->sealed[0].first_seq > shipped + 1 ? s->sealed[0].first_seq
									     : shipped + 1;
			log_warning("Vacuum (--force): unshipped seqs %llu..%llu removed (the "
				    "shipper's cursor is at %llu)", (unsigned long long)from,
				    (unsigned long long)end - 1, (unsigned long long)shipped);
			s->unshipped_removed += end - from;
		}
		int r = store_remove_oldest(s, SEGDIR_VACUUM);
		if (r < 0)
			return r;
		ret->removed++;
	}
	return 0;
}

void
store_set_retention(struct store *s, const struct segdir_retention *r)
{
	s->cfg.retention = *r;
}

