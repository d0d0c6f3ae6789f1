/* A byte budget shared by many holders (seglogd's connections): what each
 * holder's buffers take beyond the minimum it is always allowed, charged
 * and released here, never more than the limit in all -- except the few
 * frames a caller must queue whatever the budget says (membudget_force(),
 * bounded by the caller; docs/design.md, "Bounded memory").
 *
 * Fairness: a holder that was refused memory it cannot go on without
 * claims it (membudget_claim()).  One claim is kept, the oldest waiter's
 * (the caller queues the others in order); while it stands, nobody else is
 * granted the bytes it waits for, so what holders release goes to it
 * first, and a large request is never starved by a stream of small ones.
 * Pure accounting: no allocation, no I/O. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct membudget {
	uint64_t limit;	      /* bytes the holders may take in all */
	uint64_t used;	      /* taken now, forced charges included */
	uint64_t peak;	      /* the most ever taken */
	uint64_t refused;     /* charges refused */
	uint64_t forced;      /* forced charges made */
	const void *claimant; /* the oldest waiter, or NULL */
	uint64_t claim;	      /* the bytes it waits for */
};

void membudget_init(struct membudget *b, uint64_t limit);
/* A new limit (reload): what is taken stays taken; a smaller limit only
 * refuses more until releases bring it under. */
void membudget_set_limit(struct membudget *b, uint64_t limit);
/* Takes n bytes for owner if they fit under the limit without eating into
 * another owner's claim; the claimant's own charge ends its claim.  False
 * (nothing taken) otherwise. */
bool membudget_charge(struct membudget *b, const void *owner, uint64_t n);
/* Takes n bytes whatever the limit: a frame that cannot wait. */
void membudget_force(struct membudget *b, uint64_t n);
/* Gives n bytes back.  True if the claim, if any, can now be granted. */
bool membudget_release(struct membudget *b, uint64_t n);
/* owner waits for n bytes: it becomes the claimant if there is none (or
 * already is, with the new n).  False if another owner holds the claim. */
bool membudget_claim(struct membudget *b, const void *owner, uint64_t n);
/* owner no longer waits (it got its bytes another way, or went away). */
void membudget_unclaim(struct membudget *b, const void *owner);
/* Someone waits for bytes (holders should give back what they can). */
bool membudget_claimed(const struct membudget *b);
/* The claim could be granted now. */
bool membudget_claim_fits(const struct membudget *b);
