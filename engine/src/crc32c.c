/*
 * crc32c.c: CRC32C (Castagnoli) checksums for every record and slot.
 *
 * Two implementations compute the same function: a portable slice-by-8
 * table walk, and the SSE4.2 crc32 instruction on x86-64, chosen at run
 * time. Both are tested against the same vectors (tests/test_record.c).
 * The convention is zlib's: pass 0 (or a seed) for the first call and the
 * previous result to continue.
 */
#include "internal.h"

#include "crc32c_table.h"

#include <stdatomic.h>

uint32_t rlog__crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;
	while (len >= 8) {
		uint32_t lo = c ^ rlog__get32(p);
		uint32_t hi = rlog__get32(p + 4);
		c = crc32c_table[7][lo & 0xff] ^
		    crc32c_table[6][(lo >> 8) & 0xff] ^
		    crc32c_table[5][(lo >> 16) & 0xff] ^
		    crc32c_table[4][lo >> 24] ^ crc32c_table[3][hi & 0xff] ^
		    crc32c_table[2][(hi >> 8) & 0xff] ^
		    crc32c_table[1][(hi >> 16) & 0xff] ^
		    crc32c_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len > 0) {
		c = crc32c_table[0][(c ^ *p) & 0xff] ^ (c >> 8);
		p++;
		len--;
	}
	return ~c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = (uint32_t)~crc;
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, sizeof(v));
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (len > 0) {
		c32 = __builtin_ia32_crc32qi(c32, *p);
		p++;
		len--;
	}
	return ~c32;
}

/* Asked once: every record's check calls this, and the CPU probe costs
 * more than checksumming a small record. 0 unknown, 1 yes, 2 no; threads
 * racing on the first call store the same answer. */
static _Atomic int hw_state;

static bool have_hw(void)
{
	int st = atomic_load_explicit(&hw_state, memory_order_relaxed);
	if (st == 0) {
		__builtin_cpu_init();
		st = __builtin_cpu_supports("sse4.2") != 0 ? 1 : 2;
		atomic_store_explicit(&hw_state, st, memory_order_relaxed);
	}
	return st == 1;
}

bool rlog__crc32c_hw(uint32_t crc, const void *buf, size_t len, uint32_t *out)
{
	if (!have_hw()) {
		return false;
	}
	*out = crc_hw(crc, buf, len);
	return true;
}

uint32_t rlog__crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (have_hw()) {
		return crc_hw(crc, buf, len);
	}
	return rlog__crc32c_sw(crc, buf, len);
}
#else
bool rlog__crc32c_hw(uint32_t crc, const void *buf, size_t len, uint32_t *out)
{
	(void)crc;
	(void)buf;
	(void)len;
	(void)out;
	return false;
}

uint32_t rlog__crc32c(uint32_t crc, const void *buf, size_t len)
{
	return rlog__crc32c_sw(crc, buf, len);
}
#endif
