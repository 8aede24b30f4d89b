/*
 * entry.c: the tool's decoder for d-engine's Entry protobuf message.
 *
 * A thin, allocation-owning wrapper around the engine's own decoder
 * (rlog__entry_decode), so the tool and a fuzz harness read entry bodies
 * exactly as the engine does: the same wire checks, the same refusal of
 * unknown fields, the same payload cap.
 */
#include <stdlib.h>

#include "internal.h"
#include "tool.h"

static void *ent_malloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void *ent_realloc(void *ctx, void *p, size_t size)
{
	(void)ctx;
	return realloc(p, size);
}

static void ent_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static const struct rlog_allocator ent_alloc = {
    .ctx = NULL,
    .malloc = ent_malloc,
    .realloc = ent_realloc,
    .free = ent_free,
};

int rlog_tool_entry_decode(const uint8_t *body, size_t len,
			   struct rlog_entry *out, uint8_t **scratch,
			   size_t *scratch_cap)
{
	if (body == NULL && len != 0) {
		return RLOG_ECORRUPT;
	}
	if (len > RLOG__REC_BODY_MAX_BYTES) {
		return RLOG_ECORRUPT;
	}
	return rlog__entry_decode(&ent_alloc, body, len, out, scratch,
				  scratch_cap);
}
