/* mpcheck.c - bounded, iterative walk over msgpack headers (see mpcheck.h). */
#include <perflog/status.h>

#include "../common/config.h"
#include "mpcheck.h"

static uint64_t be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int pl_mp_check(const uint8_t *p, size_t len, size_t *size)
{
	/* pending[d]: objects still to read at nesting depth d. */
	uint64_t pending[PL_READ_MAX_NESTING + 1];
	unsigned depth = 0;
	size_t off = 0;
	uint64_t total = 0; /* elements in the whole object: bounds msgpack-c's allocation */
	pending[0] = 1;
	while (depth > 0 || pending[0] > 0) {
		if (pending[depth] == 0) {
			depth--;
			continue;
		}
		pending[depth]--;
		if (off >= len)
			return -PL_ETRUNCATED;
		uint8_t t = p[off++];
		uint64_t skip = 0, items = 0;
		unsigned hdr = 0;
		if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
			/* fixint, nil, bool */
		} else if ((t & 0xe0) == 0xa0) {
			skip = t & 0x1f; /* fixstr */
		} else if ((t & 0xf0) == 0x90) {
			items = t & 0x0f;
		} else if ((t & 0xf0) == 0x80) {
			items = 2u * (t & 0x0f);
		} else {
			switch (t) {
			case 0xc4: case 0xd9: hdr = 1; break;          /* bin8, str8 */
			case 0xc5: case 0xda: hdr = 2; break;          /* bin16, str16 */
			case 0xc6: case 0xdb: hdr = 4; break;          /* bin32, str32 */
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xca: case 0xce: case 0xd2: skip = 4; break;
			case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
			case 0xdc: case 0xdd: hdr = t == 0xdc ? 2 : 4; break; /* array16/32 */
			case 0xde: case 0xdf: hdr = t == 0xde ? 2 : 4; break; /* map16/32 */
			default:
				return -PL_ECORRUPT; /* ext types and 0xc1 are never written */
			}
			if (hdr) {
				if (len - off < hdr)
					return -PL_ETRUNCATED;
				uint64_t n = be(p + off, hdr);
				off += hdr;
				if (t >= 0xdc)
					items = t >= 0xde ? 2 * n : n;
				else
					skip = n;
			}
		}
		if (skip > len - off)
			return -PL_ETRUNCATED;
		off += skip;
		if (items) {
			/* Every element takes at least one byte. */
			if (items > len - off)
				return -PL_ETRUNCATED;
			total += items;
			if (total > 2u * PL_READ_MAX_ITEMS)
				return -PL_ELIMIT;
			if (depth + 1 > PL_READ_MAX_NESTING)
				return -PL_ELIMIT;
			pending[++depth] = items;
		}
	}
	*size = off;
	return 0;
}
