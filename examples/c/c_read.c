/* SPDX-License-Identifier: MIT */
/* c_read.c - a minimal reader loop: print every record of a trace, one per line.
 * Usage: c_read trace.zst   (exit 0: whole file read; 3: damaged, prefix printed) */
#include <inttypes.h>
#include <stdio.h>

#include <perflog/perflog.h>

static void print_value(const pl_value *v)
{
	switch (v->type) {
	case PL_VALUE_NIL:
		printf("nil");
		break;
	case PL_VALUE_BOOL:
		printf(v->v.b ? "true" : "false");
		break;
	case PL_VALUE_INT:
		printf("%" PRId64, v->v.i);
		break;
	case PL_VALUE_UINT:
		printf("%" PRIu64, v->v.u);
		break;
	case PL_VALUE_FLOAT:
		printf("%g", v->v.f);
		break;
	case PL_VALUE_STR:
		printf("\"%.*s\"", (int)v->v.str.len, v->v.str.ptr);
		break;
	case PL_VALUE_BYTES:
		printf("<%zu bytes>", v->v.str.len);
		break;
	case PL_VALUE_ARRAY:
		printf("[");
		for (size_t i = 0; i < v->v.array.len; i++) {
			printf(i ? ", " : "");
			print_value(&v->v.array.items[i]);
		}
		printf("]");
		break;
	case PL_VALUE_MAP:
		printf("{");
		for (size_t i = 0; i < v->v.map.len; i++) {
			const struct pl_kv *kv = &v->v.map.items[i];
			printf("%s%.*s: ", i ? ", " : "", (int)kv->key_len, kv->key);
			print_value(&kv->value);
		}
		printf("}");
		break;
	}
}

int main(int argc, char **argv)
{
	static const char *const kinds[] = {"?",      "start",	 "end",	 "message",
					    "thread", "dropped", "stats"};
	struct pl_reader *r;
	struct pl_record rec = PL_RECORD_INIT;
	if (argc != 2) {
		fprintf(stderr, "usage: c_read TRACE\n");
		return 2;
	}
	int ret = pl_reader_open(argv[1], &r);
	if (ret == 0) {
		const struct pl_trace_header *h = pl_reader_header(r);
		printf("# pid %" PRId64 " host %s clock %s version %u argv[0] %s\n", h->pid,
		       h->host, h->clock, h->version, h->argc ? h->argv[0] : "");
		while ((ret = pl_reader_next(r, &rec)) == 0) {
			char task[PL_TASK_STR_MAX];
			pl_task_format(rec.task_prefix, rec.task_seq, rec.level, rec.depth, task,
				       sizeof(task));
			printf("%-7s t=%" PRIu64 " th=%u", kinds[rec.kind], rec.ts_ns, rec.thread);
			if (rec.kind <= PL_REC_MESSAGE)
				printf(" %s %s", task, rec.type);
			if (rec.kind == PL_REC_END)
				printf(" %s %" PRIu64 "ns",
				       rec.outcome == PL_CANCELLED ? "cancelled"
				       : rec.outcome		   ? "failed"
								   : "succeeded",
				       rec.duration_ns);
			if (rec.exc_type)
				printf(" %s: %s", rec.exc_type, rec.exc_msg);
			if (rec.name)
				printf(" %s", rec.name);
			if (rec.kind == PL_REC_DROPPED)
				printf(" %" PRIu64, rec.count);
			for (size_t i = 0; i < rec.nfields; i++) {
				printf(" %.*s=", (int)rec.fields[i].key_len, rec.fields[i].key);
				print_value(&rec.fields[i].value);
			}
			printf("\n");
		}
	}
	if (ret < 0) {
		const struct pl_reader_error *e = pl_reader_error(r);
		fprintf(stderr, "c_read: %s: offset %" PRIu64 ": %s\n", e->path, e->offset,
			e->reason);
		pl_reader_close(r);
		return 3;
	}
	pl_reader_close(r);
	return 0;
}
