/* The byte budget (membudget.h). */
#include "config.h"

#include <assert.h>
#include <stddef.h>

#include "membudget.h"

void
membudget_init(struct membudget *b, uint64_t limit)
{
	*b = (struct membudget){ .limit = limit };
}

void
membudget_set_limit(struct membudget *b, uint64_t limit)
{
	b->limit = limit;
}

/* n more bytes on top of used stay under the limit, leaving room for the
 * claim unless owner is the claimant. */
static bool
membudget_fits(const struct membudget *b, const void *owner, uint64_t n)
{
	uint64_t reserved = b->claimant && b->claimant != owner ? b->claim : 0;

	return b->used <= b->limit && n <= b->limit - b->used &&
	       reserved <= b->limit - b->used - n;
}

static void
membudget_take(struct membudget *b, uint64_t n)
{
	b->used += n;
	if (b->used > b->peak)
		b->peak = b->used;
}

bool
membudget_charge(struct membudget *b, const void *owner, uint64_t n)
{
	if (!membudget_fits(b, owner, n)) {
		b->refused++;
		return false;
	}
	membudget_take(b, n);
	if (owner && b->claimant == owner)
		membudget_unclaim(b, owner);
	return true;
}

void
membudget_force(struct membudget *b, uint64_t n)
{
	membudget_take(b, n);
	b->forced++;
}

bool
membudget_release(struct membudget *b, uint64_t n)
{
	assert(n <= b->used);
	b->used -= n;
	return membudget_claim_fits(b);
}

bool
membudget_claim(struct membudget *b, const void *owner, uint64_t n)
{
	assert(owner);
	if (b->claimant && b->claimant != owner)
		return false;
	b->claimant = owner;
	b->claim = n;
	return true;
}

void
membudget_unclaim(struct membudget *b, const void *owner)
{
	if (b->claimant == owner) {
		b->claimant = NULL;
		b->claim = 0;
	}
}

bool
membudget_claimed(const struct membudget *b)
{
	return b->claimant != NULL;
}

bool
membudget_claim_fits(const struct membudget *b)
{
	return b->claimant && membudget_fits(b, b->claimant, b->claim);
}
