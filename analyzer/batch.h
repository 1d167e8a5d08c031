/* batch.h - private to input.c: read one file a frame at a time into a batch of compact
 * events sorted by timestamp (see input.h for why and for the bounds).
 */
#ifndef PERFAN_BATCH_H
#define PERFAN_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "input.h"
#include "names.h"

/**
 * pf_batch_load() - replace @s's batch by the next one (the rest of the current frame).
 * Reports damage as a warning unless @quiet. Returns: 1 when the batch holds events,
 * 0 when the file is finished, -2 when out of memory.
 */
int pf_batch_load(struct pf_source *s, struct pf_names *names, bool keep_fields, bool quiet);

/** pf_batch_view() - point s->cur at the batch's next event (s->next < s->n). */
void pf_batch_view(struct pf_source *s, uint32_t src);

/** pf_batch_free() - free the batch's memory. */
void pf_batch_free(struct pf_source *s);

#endif /* PERFAN_BATCH_H */
