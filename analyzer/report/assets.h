/* SPDX-License-Identifier: MIT */
/* report/assets.h - the page template of `perfan report`, embedded at build time.
 *
 * analyzer/report/embed.py (run by meson with the configured Python) reads
 * analyzer/report/template.html, inlines report.css and report.js into it, computes the
 * Content-Security-Policy hash of the script, and writes report_assets.c: the page cut at
 * its slots, as byte arrays. perfan writes each part, then what its slot stands for.
 */
#ifndef PERFAN_REPORT_ASSETS_H
#define PERFAN_REPORT_ASSETS_H

#include <stddef.h>

enum pf_report_slot {
	PF_SLOT_END,   /* the last part: nothing follows */
	PF_SLOT_TITLE, /* HTML text: the page title (escaped by perfan) */
	PF_SLOT_DATA,  /* the JSON document, inside <script type="application/json"> */
};

struct pf_report_part {
	const unsigned char *text;
	size_t len;
	enum pf_report_slot slot; /* what comes after @text */
};

extern const struct pf_report_part pf_report_parts[];
extern const size_t pf_report_nparts;

#endif /* PERFAN_REPORT_ASSETS_H */
