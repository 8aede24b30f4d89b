/*
 * sim/run.c: the interpreter of scenario scripts and the crash-point
 * explorer. See run.h.
 */
#include "run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "memvfs.h"
#include "model.h"

uint64_t rlog_sim_mix(uint64_t a, uint64_t b)
{
	uint64_t z = a ^ (b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2));
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void rlog_sim_trial_init(struct rlog_sim_trial *t, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->seed = seed;
	t->crash_at = RLOG_SIM_NEVER;
}

/* The interpreter's state. */
struct vm {
	const struct rlog_sim_script *s;
	const struct rlog_sim_trial *t;
	struct rlog_sim_outcome *o;
	struct rlog_sim_disk *disk;
	struct rlog *log;
	struct rlog_sim_model model;
	struct rlog_options opts;
	enum rlog_sim_fate device_fate;
	bool injected;	    /* the injected crash happened: expects are off */
	bool faults;	    /* faults may explain engine errors */
	bool stop;	    /* the run cannot go on (and that is fine) */
	uint64_t check_ops; /* VFS ops made by checks, not crash points */
	uint64_t check_from;
	uint32_t line;
	uint8_t *buf; /* payload scratch */
	size_t buf_cap;
	struct rlog_entry *ents;
	size_t ents_cap;
};

static int fail(struct vm *vm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(struct vm *vm, const char *fmt, ...)
{
	if (vm->o->failed) {
		return -1;
	}
	vm->o->failed = true;
	vm->o->line = vm->line;
	char body[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(vm->o->msg, sizeof(vm->o->msg), "line %u: %s", vm->line, body);
	return -1;
}

/* Checks read through the engine too, but their operations are not crash
 * points: crash point K counts only the operations of the script's own
 * calls. These bracket a check. */
static void check_begin(struct vm *vm)
{
	vm->check_from = rlog_sim_disk_op_count(vm->disk);
	if (!rlog_sim_disk_crashed(vm->disk)) {
		rlog_sim_disk_set_crash_at(vm->disk, RLOG_SIM_NEVER);
	}
}

static void check_end(struct vm *vm)
{
	vm->check_ops += rlog_sim_disk_op_count(vm->disk) - vm->check_from;
	if (vm->t->crash_at != RLOG_SIM_NEVER && !vm->injected) {
		rlog_sim_disk_set_crash_at(vm->disk,
					   vm->t->crash_at + vm->check_ops);
	}
}

static bool typed(int rv)
{
	return rv <= 0 && rv >= RLOG_EVERSION;
}

static enum rlog_sim_fate device_fate(enum rlog_sim_scn_fate f)
{
	switch (f) {
	case RLOG_SIM_SCN_FATE_LOSE_UNSYNCED:
		return RLOG_SIM_FATE_LOSE_UNSYNCED;
	case RLOG_SIM_SCN_FATE_KEEP_UNSYNCED:
		return RLOG_SIM_FATE_KEEP_UNSYNCED;
	case RLOG_SIM_SCN_FATE_ORDERED:
		return RLOG_SIM_FATE_ORDERED;
	case RLOG_SIM_SCN_FATE_RANDOM:
		break;
	}
	return RLOG_SIM_FATE_RANDOM;
}

static enum rlog_sim_fault map_fault(enum rlog_sim_scn_fault f)
{
	switch (f) {
	case RLOG_SIM_SCN_FAULT_FSYNC_EIO:
		return RLOG_SIM_FAULT_SYNC;
	case RLOG_SIM_SCN_FAULT_READ_EIO:
		return RLOG_SIM_FAULT_READ;
	case RLOG_SIM_SCN_FAULT_WRITE_EIO:
	case RLOG_SIM_SCN_FAULT_SHORT_WRITE:
		return RLOG_SIM_FAULT_WRITE;
	case RLOG_SIM_SCN_FAULT_ENOSPC:
		return RLOG_SIM_FAULT_NOSPACE;
	case RLOG_SIM_SCN_FAULT_DIRSYNC_EIO:
		return RLOG_SIM_FAULT_SYNC_DIR;
	case RLOG_SIM_SCN_FAULT_LOSE_DIROP:
		return RLOG_SIM_FAULT_DIR_LOST;
	case RLOG_SIM_SCN_FAULT_COUNT:
		break;
	}
	return RLOG_SIM_FAULT_NONE;
}

static int new_disk(struct vm *vm)
{
	const struct rlog_sim_scn_options *so = &vm->s->options;
	struct rlog_sim_disk_options d;
	memset(&d, 0, sizeof(d));
	d.sector_size = so->sector_size_bytes;
	vm->device_fate = device_fate(so->fate);
	d.fate = vm->device_fate;
	d.atomic_sectors = so->atomic_sectors;
	d.safe_append = so->safe_append;
	d.disk_size_max_bytes = so->disk_size_bytes;
	d.trace_lines = vm->t->trace_lines;
	for (int f = 0; f < RLOG_SIM_SCN_FAULT_COUNT; f++) {
		uint32_t ppm = so->fault_rate_ppm[f];
		if (ppm > 0) {
			enum rlog_sim_fault k =
			    map_fault((enum rlog_sim_scn_fault)f);
			d.fault_rate_ppm[k] = ppm;
			vm->faults = true;
		}
	}
	if (so->disk_size_bytes > 0) {
		vm->faults = true;
	}
	int rv = rlog_sim_disk_new(&d, vm->t->seed, &vm->disk);
	if (rv != 0) {
		return rv;
	}
	rlog_options_init(&vm->opts);
	vm->opts.vfs = rlog_sim_disk_vfs(vm->disk);
	vm->opts.segment_size_bytes = so->segment_size_bytes;
	vm->opts.entry_size_max_bytes = so->entry_size_max_bytes;
	vm->opts.preallocate_bytes = so->preallocate_bytes;
	vm->opts.verify_on_open = so->verify_on_open;
	if (vm->t->crash_at != RLOG_SIM_NEVER) {
		rlog_sim_disk_set_crash_at(vm->disk, vm->t->crash_at);
	}
	return 0;
}

/* ---- Recovery and its checks. ---- */

/* Ops a recovery of the disk's current state takes (on a copy). */
static uint64_t recovery_ops(struct vm *vm)
{
	struct rlog_sim_disk *c;
	if (rlog_sim_disk_clone(vm->disk, &c) != 0) {
		return 0;
	}
	(void)rlog_sim_disk_crash(c); /* nothing pending: just revive */
	uint64_t before = rlog_sim_disk_op_count(c);
	struct rlog_options o = vm->opts;
	o.vfs = rlog_sim_disk_vfs(c);
	struct rlog *l = NULL;
	int rv = rlog_open(&o, &l);
	uint64_t n = rlog_sim_disk_op_count(c) - before;
	if (rv == 0) {
		rlog_close(l);
	}
	rlog_sim_disk_free(c);
	return n;
}

/* Invariant 7: the recovered log accepts an append that survives the next
 * crash. Runs on a copy of the disk. */
static int check_append_survives(struct vm *vm)
{
	struct rlog_sim_disk *c;
	if (rlog_sim_disk_clone(vm->disk, &c) != 0) {
		return -ENOMEM;
	}
	rlog_sim_disk_set_crash_at(c, RLOG_SIM_NEVER);
	rlog_sim_disk_fault_clear(c);
	for (int k = 1; k < RLOG_SIM_FAULT_COUNT; k++) {
		(void)rlog_sim_disk_set_fault_rate(c, (enum rlog_sim_fault)k,
						   0);
	}
	(void)rlog_sim_disk_crash(c);
	struct rlog_options o = vm->opts;
	o.vfs = rlog_sim_disk_vfs(c);
	struct rlog *l = NULL;
	int rv = rlog_open(&o, &l);
	if (rv != 0) {
		rlog_sim_disk_free(c);
		return fail(vm, "invariant 6: a second recovery failed: %s: %s",
			    rlog_strerror(rv), rlog_open_errmsg());
	}
	uint64_t idx = rlog_last_index(l) + 1;
	uint64_t term = 1;
	if (idx > 1) {
		(void)rlog_term(l, idx - 1, &term);
	}
	struct rlog_sim_ment me = {term ? term : 1, 24, RLOG_PAYLOAD_COMMAND};
	uint8_t p[24];
	rlog_sim_payload(vm->model.seed, idx, &me, p);
	struct rlog_entry e = {.index = idx,
			       .term = me.term,
			       .kind = RLOG_PAYLOAD_COMMAND,
			       .payload = p,
			       .payload_len = sizeof(p)};
	rv = rlog_append(l, &e, 1);
	if (rv == 0) {
		rv = rlog_sync(l);
	}
	if (rv == RLOG_ENOSPC && vm->s->options.disk_size_bytes > 0) {
		/* The scenario's disk is full: nothing to prove here. */
		rlog_close(l);
		rlog_sim_disk_free(c);
		return 0;
	}
	if (rv != 0) {
		int r = fail(vm,
			     "invariant 7: append %llu after recovery "
			     "failed: %s: %s",
			     (unsigned long long)idx, rlog_strerror(rv),
			     rlog_errmsg(l));
		rlog_close(l);
		rlog_sim_disk_free(c);
		return r;
	}
	(void)rlog_sim_disk_crash(c);
	rlog_close(l);
	rv = rlog_open(&o, &l);
	if (rv != 0) {
		rlog_sim_disk_free(c);
		return fail(vm,
			    "invariant 7: reopen after a synced append "
			    "failed: %s: %s",
			    rlog_strerror(rv), rlog_open_errmsg());
	}
	struct rlog_entry got;
	rv = rlog_get(l, idx, &got);
	int r = 0;
	if (rv != 0 || got.term != me.term || got.payload_len != sizeof(p) ||
	    memcmp(got.payload, p, sizeof(p)) != 0) {
		r = fail(vm,
			 "invariant 7: entry %llu appended and synced after "
			 "recovery did not survive a crash (%s)",
			 (unsigned long long)idx,
			 rv ? rlog_strerror(rv) : "bytes differ");
	}
	rlog_close(l);
	rlog_sim_disk_free(c);
	return r;
}

static int check_recovered(struct vm *vm, bool deep);

/* Open after a crash (or a close) and check everything. nested: crash once
 * more in the middle of this recovery first. */
static int recover(struct vm *vm, bool nested, bool deep)
{
	if (nested) {
		uint64_t r = recovery_ops(vm);
		if (r > 0) {
			uint64_t j =
			    1 + rlog_sim_mix(vm->t->seed, vm->t->crash_at) % r;
			rlog_sim_disk_set_crash_at(
			    vm->disk, rlog_sim_disk_op_count(vm->disk) + j);
			struct rlog *l = NULL;
			int rv = rlog_open(&vm->opts, &l);
			if (!typed(rv)) {
				return fail(vm,
					    "invariant 8: open returned "
					    "%d, not an RLOG code",
					    rv);
			}
			if (rv == 0) {
				rlog_close(l);
			}
			bool died = rlog_sim_disk_crashed(vm->disk);
			rlog_sim_disk_set_crash_at(vm->disk, RLOG_SIM_NEVER);
			if (died) {
				rlog_sim_disk_reseed(
				    vm->disk, rlog_sim_mix(vm->t->seed, j));
				if (rlog_sim_disk_crash(vm->disk) != 0) {
					return -ENOMEM;
				}
			}
		}
	}
	int rv = rlog_open(&vm->opts, &vm->log);
	if (!typed(rv)) {
		return fail(
		    vm, "invariant 8: open returned %d, not an RLOG code", rv);
	}
	if (rlog_sim_disk_crashed(vm->disk)) {
		/* The crash point fell inside this open. */
		if (vm->log != NULL) {
			rlog_close(vm->log);
			vm->log = NULL;
		}
		return 1;
	}
	if (rv == RLOG_ECORRUPT) {
		if (vm->model.damage_injected) {
			vm->stop = true;
			vm->o->ended_corrupt = true;
			return 0;
		}
		return fail(vm,
			    "invariant 5: recovery reported corruption but "
			    "no acknowledged byte was damaged: %s",
			    rlog_open_errmsg());
	}
	if (rv != 0) {
		if (vm->faults || vm->model.damage_injected) {
			vm->stop = true;
			return 0;
		}
		return fail(vm, "recovery failed: %s: %s", rlog_strerror(rv),
			    rlog_open_errmsg());
	}
	vm->o->recoveries++;
	check_begin(vm);
	rv = check_recovered(vm, deep);
	check_end(vm);
	return rv;
}

/* The log's own files: everything but seals, which recovery may write
 * (docs/FORMAT.md: a seal is a summary that never holds the only copy of
 * anything; a second recovery checks the seals the first one wrote, since
 * it must find the same log through them). */
static bool log_file(const char *name)
{
	size_t n = strlen(name);
	return n < 5 || strcmp(name + n - 5, ".seal") != 0;
}

static int check_recovered(struct vm *vm, bool deep)
{
	char msg[900];
	int rv =
	    rlog_sim_check_recovered(&vm->model, vm->log, msg, sizeof(msg));
	if (rv == -ENOMEM) {
		return rv;
	}
	if (rv == 1) {
		/* Damage found by a read rather than by the open: the run
		 * ends here, as after an open that reports it. */
		vm->stop = true;
		vm->o->ended_corrupt = true;
		return 0;
	}
	if (rv != 0) {
		return fail(vm, "%s", msg);
	}
	if (!deep) {
		return 0;
	}
	/* Invariant 6: recovery is deterministic and idempotent, and writes
	 * nothing. */
	uint64_t fp = rlog_sim_fingerprint(vm->log);
	rlog_close(vm->log); /* may write the clean-close mark */
	vm->log = NULL;
	uint64_t h = rlog_sim_disk_content_hash_if(vm->disk, false, log_file);
	rv = rlog_open(&vm->opts, &vm->log);
	if (rv != 0) {
		return fail(vm, "invariant 6: a second recovery failed: %s: %s",
			    rlog_strerror(rv), rlog_open_errmsg());
	}
	if (rlog_sim_fingerprint(vm->log) != fp) {
		return fail(vm, "invariant 6: a second recovery found a "
				"different log or hard state");
	}
	if (rlog_sim_disk_content_hash_if(vm->disk, false, log_file) != h) {
		return fail(vm, "invariant 6: recovery changed the bytes on "
				"disk");
	}
	if (vm->t->check_append) {
		return check_append_survives(vm);
	}
	return 0;
}

/* The machine died inside the last engine call: settle the fates of the
 * trial, recover and check, and let the script go on. */
static int injected_crash(struct vm *vm)
{
	vm->o->crashed_at_point = true;
	vm->o->nothing_pending = rlog_sim_disk_pending_count(vm->disk) == 0;
	rlog_sim_disk_set_crash_at(vm->disk, RLOG_SIM_NEVER);
	enum rlog_sim_fate f = vm->device_fate;
	if (vm->t->fate == 0) {
		f = RLOG_SIM_FATE_LOSE_UNSYNCED;
	} else if (vm->t->fate == 1 && f != RLOG_SIM_FATE_LOSE_UNSYNCED) {
		f = RLOG_SIM_FATE_KEEP_UNSYNCED;
	} else if (vm->t->fate == 2 && f == RLOG_SIM_FATE_RANDOM) {
		/* A prefix of the pending writes, the last one cut short: the
		 * tear a single interrupted write most often leaves. */
		f = RLOG_SIM_FATE_ORDERED;
	}
	rlog_sim_disk_set_fate(vm->disk, f);
	rlog_sim_disk_reseed(
	    vm->disk,
	    rlog_sim_mix(vm->t->seed, vm->t->crash_at * 131u + vm->t->fate));
	if (rlog_sim_disk_crash(vm->disk) != 0) {
		return -ENOMEM;
	}
	rlog_sim_disk_set_fate(vm->disk, vm->device_fate);
	if (vm->log != NULL) {
		rlog_close(vm->log);
		vm->log = NULL;
	}
	vm->injected = true;
	int rv = recover(vm, vm->t->nested, true);
	if (rv == 1) {
		return fail(vm, "the machine died again during recovery");
	}
	return rv;
}

/* ---- Commands. ---- */
static int entries_for(struct vm *vm, const struct rlog_sim_cmd_entries *c,
		       struct rlog_sim_ment *me)
{
	uint64_t n = c->last_index - c->first_index + 1;
	me->term = c->term;
	me->kind = (uint8_t)c->kind;
	me->size_bytes =
	    (c->kind == RLOG_PAYLOAD_COMMAND || c->kind == RLOG_PAYLOAD_CONFIG)
		? (uint32_t)c->size_bytes
		: 0;
	if (vm->ents_cap < n) {
		free(vm->ents);
		vm->ents = malloc(n * sizeof(*vm->ents));
		if (vm->ents == NULL) {
			vm->ents_cap = 0;
			return -ENOMEM;
		}
		vm->ents_cap = n;
	}
	size_t need = (size_t)(n * me->size_bytes);
	if (vm->buf_cap < need) {
		free(vm->buf);
		vm->buf = malloc(need ? need : 1);
		if (vm->buf == NULL) {
			vm->buf_cap = 0;
			return -ENOMEM;
		}
		vm->buf_cap = need;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint8_t *p =
		    me->size_bytes ? vm->buf + i * me->size_bytes : NULL;
		rlog_sim_payload(vm->model.seed, c->first_index + i, me, p);
		vm->ents[i] = (struct rlog_entry){
		    .index = c->first_index + i,
		    .term = c->term,
		    .kind = c->kind,
		    .payload = me->size_bytes ? p : NULL,
		    .payload_len = me->size_bytes,
		};
	}
	return 0;
}

/* Judge an engine call's result: the script's expectation, typed codes,
 * and invariant 9 (nothing acknowledged after a failure). Returns 1 when
 * the call succeeded, 0 when it failed acceptably, -1 on a violation. */
static int judge(struct vm *vm, const struct rlog_sim_cmd *c, int rv,
		 bool mutating, bool was_poisoned)
{
	if (!typed(rv)) {
		return fail(vm, "invariant 8: %s returned %d, not an RLOG code",
			    rlog_sim_cmd_name(c->kind), rv);
	}
	if (mutating && was_poisoned && rv == 0) {
		return fail(vm,
			    "invariant 9: %s succeeded after an earlier "
			    "failure poisoned the handle",
			    rlog_sim_cmd_name(c->kind));
	}
	if (rlog_sim_disk_crashed(vm->disk)) {
		return rv == 0 ? 1 : 0;
	}
	if (c->expect_set && !vm->injected) {
		if (rv != c->expect_code) {
			return fail(vm, "%s returned %s, expected %s (%s)",
				    rlog_sim_cmd_name(c->kind),
				    rlog_sim_scn_code_name(rv),
				    rlog_sim_scn_code_name(c->expect_code),
				    vm->log ? rlog_errmsg(vm->log)
					    : rlog_open_errmsg());
		}
		return rv == 0 ? 1 : 0;
	}
	if (rv == 0) {
		return 1;
	}
	if (mutating && was_poisoned && rv == RLOG_EFATAL) {
		return 0;
	}
	if (vm->faults || vm->injected || vm->model.damage_injected) {
		return 0;
	}
	return fail(vm, "%s failed: %s: %s", rlog_sim_cmd_name(c->kind),
		    rlog_strerror(rv),
		    vm->log ? rlog_errmsg(vm->log) : rlog_open_errmsg());
}

static int need_log(struct vm *vm, const struct rlog_sim_cmd *c)
{
	if (vm->log != NULL) {
		return 1;
	}
	if (vm->injected || vm->faults) {
		return 0; /* the script's own flow was broken by the crash */
	}
	return fail(vm, "%s needs an open log (use open first)",
		    rlog_sim_cmd_name(c->kind));
}

static const char *file_name(struct vm *vm, const struct rlog_sim_scn_file *f,
			     char *buf, size_t len);

struct newest {
	char name[RLOG_VFS_NAME_MAX + 1];
};

static int newest_cb(void *arg, const char *name, uint64_t size)
{
	(void)size;
	struct newest *n = arg;
	size_t l = strlen(name);
	if (l > 4 && strcmp(name + l - 4, ".seg") == 0 &&
	    strcmp(name, n->name) > 0) {
		snprintf(n->name, sizeof(n->name), "%s", name);
	}
	return 0;
}

static const char *file_name(struct vm *vm, const struct rlog_sim_scn_file *f,
			     char *buf, size_t len)
{
	switch (f->sel) {
	case RLOG_SIM_SCN_FILE_ANY:
		return NULL;
	case RLOG_SIM_SCN_FILE_META:
		snprintf(buf, len, "meta");
		return buf;
	case RLOG_SIM_SCN_FILE_NAME:
		snprintf(buf, len, "%s", f->name);
		return buf;
	case RLOG_SIM_SCN_FILE_LAST: {
		struct newest n = {{0}};
		(void)rlog_sim_disk_list_files(vm->disk, false, newest_cb, &n);
		snprintf(buf, len, "%s", n.name);
		return buf;
	}
	}
	return NULL;
}

static int do_open(struct vm *vm, const struct rlog_sim_cmd *c)
{
	if (vm->log != NULL) {
		rlog_close(vm->log);
		vm->log = NULL;
	}
	if (c->expect_set && c->expect_code != RLOG_OK && !vm->injected) {
		struct rlog *l = NULL;
		int rv = rlog_open(&vm->opts, &l);
		if (rv == 0) {
			rlog_close(l);
		}
		if (rlog_sim_disk_crashed(vm->disk)) {
			return injected_crash(vm);
		}
		if (rv != c->expect_code) {
			return fail(vm, "open returned %s, expected %s (%s)",
				    rlog_sim_scn_code_name(rv),
				    rlog_sim_scn_code_name(c->expect_code),
				    rlog_open_errmsg());
		}
		if (rv == RLOG_ECORRUPT) {
			vm->stop = true;
			vm->o->ended_corrupt = true;
		}
		return 0;
	}
	int rv = recover(vm, false, false);
	if (rv == 1) {
		return injected_crash(vm);
	}
	return rv;
}

static int expect(struct vm *vm, const struct rlog_sim_cmd *c);

static int exec(struct vm *vm, const struct rlog_sim_cmd *c)
{
	vm->line = c->line;
	int rv, j;
	bool was = vm->model.poisoned;
	struct rlog_sim_ment me;
	char nb[RLOG_VFS_NAME_MAX + 1];
	switch (c->kind) {
	case RLOG_SIM_CMD_OPEN:
	case RLOG_SIM_CMD_REOPEN:
		return do_open(vm, c);
	case RLOG_SIM_CMD_CLOSE:
		if (vm->log != NULL) {
			rlog_close(vm->log);
			vm->log = NULL;
		}
		return 0;
	case RLOG_SIM_CMD_APPEND:
	case RLOG_SIM_CMD_REPLACE:
		if ((j = need_log(vm, c)) != 1) {
			return j;
		}
		if ((rv = entries_for(vm, &c->u.entries, &me)) != 0) {
			return rv;
		}
		{
			size_t n = (size_t)(c->u.entries.last_index -
					    c->u.entries.first_index + 1);
			rv = c->kind == RLOG_SIM_CMD_APPEND
				 ? rlog_append(vm->log, vm->ents, n)
				 : rlog_replace(vm->log, vm->ents, n);
		}
		if ((j = judge(vm, c, rv, true, was)) < 0) {
			return j;
		}
		if (rv == RLOG_EINVAL || rv == RLOG_EFATAL) {
			return 0;
		}
		return c->kind == RLOG_SIM_CMD_APPEND
			   ? rlog_sim_model_append(
				 &vm->model, c->u.entries.first_index,
				 c->u.entries.last_index, me, j == 1)
			   : rlog_sim_model_replace(
				 &vm->model, c->u.entries.first_index,
				 c->u.entries.last_index, me, j == 1);
	case RLOG_SIM_CMD_SYNC:
		if ((j = need_log(vm, c)) != 1) {
			return j;
		}
		rv = rlog_sync(vm->log);
		if ((j = judge(vm, c, rv, true, was)) < 0) {
			return j;
		}
		return rv == RLOG_EFATAL
			   ? 0
			   : rlog_sim_model_sync(&vm->model, j == 1);
	case RLOG_SIM_CMD_TRUNCATE:
		if ((j = need_log(vm, c)) != 1) {
			return j;
		}
		rv = rlog_truncate(vm->log, c->u.index.index);
		if ((j = judge(vm, c, rv, true, was)) < 0) {
			return j;
		}
		if (rv == RLOG_EINVAL || rv == RLOG_EFATAL) {
			return 0;
		}
		if (c->u.index.index ==
		    rlog_sim_mlog_last(&vm->model.cur) + 1) {
			return 0; /* a no-op truncate */
		}
		return rlog_sim_model_truncate(&vm->model, c->u.index.index,
					       j == 1);
	case RLOG_SIM_CMD_PURGE:
		if ((j = need_log(vm, c)) != 1) {
			return j;
		}
		rv = rlog_purge(vm->log, c->u.log_id.index, c->u.log_id.term);
		if ((j = judge(vm, c, rv, true, was)) < 0) {
			return j;
		}
		if (rv == RLOG_EINVAL || rv == RLOG_EFATAL ||
		    c->u.log_id.index <= vm->model.cur.purge_index) {
			return 0;
		}
		return rlog_sim_model_purge(&vm->model, c->u.log_id.index,
					    c->u.log_id.term, j == 1);
	case RLOG_SIM_CMD_RESET:
		if ((j = need_log(vm, c)) != 1) {
			return j;
		}
		rv = rlog_reset(vm->log);
		if ((j = judge(vm, c, rv, true, was)) < 0) {
			return j;
		}
		return rv == RLOG_EFATAL
			   ? 0
			   : rlog_sim_model_reset(&vm->model, j == 1);
	case RLOG_SIM_CMD_HARDSTATE:
		if ((j = need_log(vm, c)) != 1) {
			return j;
		}
		rv = rlog_hard_state_save(vm->log, &c->u.hard_state.value);
		if ((j = judge(vm, c, rv, true, was)) < 0) {
			return j;
		}
		if (rv != RLOG_EINVAL && rv != RLOG_EFATAL) {
			rlog_sim_model_hardstate(
			    &vm->model, &c->u.hard_state.value, j == 1);
		}
		return 0;
	case RLOG_SIM_CMD_CRASH:
		rlog_sim_disk_set_crash_at(vm->disk, RLOG_SIM_NEVER);
		if (rlog_sim_disk_crash(vm->disk) != 0) {
			return -ENOMEM;
		}
		if (vm->t->crash_at != RLOG_SIM_NEVER && !vm->injected) {
			rlog_sim_disk_set_crash_at(vm->disk, vm->t->crash_at +
								 vm->check_ops);
		}
		if (vm->log != NULL) {
			rlog_close(vm->log);
			vm->log = NULL;
		}
		return 0;
	case RLOG_SIM_CMD_FAULT: {
		enum rlog_sim_fault k = map_fault(c->u.fault.kind);
		const char *name =
		    file_name(vm, &c->u.fault.file, nb, sizeof(nb));
		if (rlog_sim_disk_fault_after(vm->disk, k, name,
					      c->u.fault.after) != 0 &&
		    !vm->injected) {
			return fail(vm, "cannot schedule fault %s",
				    rlog_sim_scn_fault_name(c->u.fault.kind));
		}
		vm->faults = true;
		if (k == RLOG_SIM_FAULT_DIR_LOST) {
			/* A disk that loses a durable directory operation can
			 * lose acknowledged data; no engine can prevent it. */
			vm->model.damage_injected = true;
		}
		return 0;
	}
	case RLOG_SIM_CMD_BITFLIP: {
		const char *name =
		    file_name(vm, &c->u.bitflip.file, nb, sizeof(nb));
		if (c->u.bitflip.offset_any) {
			rv = rlog_sim_disk_flip_random_bit(vm->disk, name);
		} else {
			unsigned bit =
			    c->u.bitflip.bit_any
				? (unsigned)(rlog_sim_mix(vm->t->seed,
							  c->line) %
					     8u)
				: c->u.bitflip.bit;
			rv = name ? rlog_sim_disk_flip_bit(vm->disk, name,
							   c->u.bitflip.offset,
							   bit)
				  : -EINVAL;
		}
		if (rv != 0 && !vm->injected) {
			return fail(vm, "bitflip: no such byte (%s)",
				    name ? name : "any file");
		}
		vm->model.damage_injected = true;
		return 0;
	}
	case RLOG_SIM_CMD_CHECK:
		if ((j = need_log(vm, c)) != 1) {
			return j;
		}
		{
			char msg[900];
			check_begin(vm);
			rv = rlog_sim_check_live(&vm->model, vm->log, msg,
						 sizeof(msg));
			check_end(vm);
			if (rv == -ENOMEM) {
				return rv;
			}
			if (rv != 0) {
				return fail(vm, "%s", msg);
			}
		}
		return 0;
	default:
		break;
	}
	/* The expect commands: checked only on the run as written. */
	if (vm->injected) {
		return 0;
	}
	if ((j = need_log(vm, c)) != 1) {
		return j;
	}
	check_begin(vm);
	rv = expect(vm, c);
	check_end(vm);
	return rv;
}

static int expect(struct vm *vm, const struct rlog_sim_cmd *c)
{
	int rv;
	uint64_t got = 0;
	switch (c->kind) {
	case RLOG_SIM_CMD_EXPECT_LAST_INDEX:
		got = rlog_last_index(vm->log);
		if (got != c->u.index.index) {
			return fail(vm, "expect last_index %llu, found %llu",
				    (unsigned long long)c->u.index.index,
				    (unsigned long long)got);
		}
		return 0;
	case RLOG_SIM_CMD_EXPECT_FIRST_INDEX:
		got = rlog_first_index(vm->log);
		if (got != c->u.index.index) {
			return fail(vm, "expect first_index %llu, found %llu",
				    (unsigned long long)c->u.index.index,
				    (unsigned long long)got);
		}
		return 0;
	case RLOG_SIM_CMD_EXPECT_ENTRY: {
		struct rlog_entry e;
		rv = rlog_get(vm->log, c->u.log_id.index, &e);
		int want = c->expect_set ? c->expect_code : RLOG_OK;
		if (rv != want) {
			return fail(vm,
				    "expect entry %llu: get returned %s, "
				    "expected %s (%s)",
				    (unsigned long long)c->u.log_id.index,
				    rlog_sim_scn_code_name(rv),
				    rlog_sim_scn_code_name(want),
				    rlog_errmsg(vm->log));
		}
		if (rv == 0 && e.term != c->u.log_id.term) {
			return fail(vm,
				    "expect entry %llu term=%llu, found "
				    "term %llu",
				    (unsigned long long)c->u.log_id.index,
				    (unsigned long long)c->u.log_id.term,
				    (unsigned long long)e.term);
		}
		return 0;
	}
	case RLOG_SIM_CMD_EXPECT_MISSING: {
		struct rlog_entry e;
		rv = rlog_get(vm->log, c->u.index.index, &e);
		if (rv != RLOG_ENOTFOUND) {
			return fail(vm, "expect missing %llu: get returned %s",
				    (unsigned long long)c->u.index.index,
				    rlog_sim_scn_code_name(rv));
		}
		return 0;
	}
	case RLOG_SIM_CMD_EXPECT_HARDSTATE: {
		struct rlog_hard_state hs;
		rv = rlog_hard_state_load(vm->log, &hs);
		if (c->u.hard_state.none) {
			if (rv != RLOG_ENOTFOUND) {
				return fail(vm,
					    "expect hardstate none: load "
					    "returned %s",
					    rlog_sim_scn_code_name(rv));
			}
			return 0;
		}
		const struct rlog_hard_state *w = &c->u.hard_state.value;
		if (rv != 0 || hs.current_term != w->current_term ||
		    hs.has_vote != w->has_vote ||
		    (w->has_vote && (hs.voted_for_id != w->voted_for_id ||
				     hs.voted_for_term != w->voted_for_term ||
				     hs.committed != w->committed))) {
			return fail(vm,
				    "expect hardstate: load returned %s, "
				    "term %llu vote %d/%u/%llu/%d",
				    rlog_sim_scn_code_name(rv),
				    (unsigned long long)hs.current_term,
				    hs.has_vote, hs.voted_for_id,
				    (unsigned long long)hs.voted_for_term,
				    hs.committed);
		}
		return 0;
	}
	case RLOG_SIM_CMD_EXPECT_PURGED: {
		uint64_t pi, pt;
		rlog_purged(vm->log, &pi, &pt);
		if (pi != c->u.log_id.index || pt != c->u.log_id.term) {
			return fail(vm,
				    "expect purged %llu term=%llu, found "
				    "%llu term=%llu",
				    (unsigned long long)c->u.log_id.index,
				    (unsigned long long)c->u.log_id.term,
				    (unsigned long long)pi,
				    (unsigned long long)pt);
		}
		return 0;
	}
	default:
		return fail(vm, "unknown command kind %d", (int)c->kind);
	}
}

int rlog_sim_run_trial(const struct rlog_sim_script *s,
		       const struct rlog_sim_trial *t,
		       struct rlog_sim_outcome *o)
{
	memset(o, 0, sizeof(*o));
	struct vm vm;
	memset(&vm, 0, sizeof(vm));
	vm.s = s;
	vm.t = t;
	vm.o = o;
	rlog_sim_model_init(&vm.model, t->seed);
	int rv = new_disk(&vm);
	if (rv != 0) {
		rlog_sim_model_free(&vm.model);
		return rv;
	}
	for (size_t i = 0; i < s->cmd_count && !o->failed && !vm.stop; i++) {
		rv = exec(&vm, &s->cmds[i]);
		if (rv == -ENOMEM) {
			break;
		}
		if (!o->failed && !vm.stop && !vm.injected &&
		    rlog_sim_disk_crashed(vm.disk)) {
			rv = injected_crash(&vm);
			if (rv == -ENOMEM) {
				break;
			}
		}
		rv = 0;
	}
	if (vm.log != NULL) {
		rlog_close(vm.log);
	}
	o->ops = rlog_sim_disk_op_count(vm.disk) - vm.check_ops;
	o->trace_hash = rlog_sim_disk_trace_hash(vm.disk);
	if (o->failed && t->trace_out != NULL && t->trace_lines > 0) {
		fprintf(t->trace_out, "--- VFS trace (last %u lines) ---\n",
			t->trace_lines);
		rlog_sim_disk_trace_dump(vm.disk, t->trace_out);
		fprintf(t->trace_out, "--- end of trace ---\n");
	}
	rlog_sim_disk_free(vm.disk);
	rlog_sim_model_free(&vm.model);
	free(vm.buf);
	free(vm.ents);
	return rv;
}

/* ---- The explorer. ---- */
int rlog_sim_explore(const struct rlog_sim_script *s,
		     const struct rlog_sim_explore_cfg *cfg,
		     struct rlog_sim_explore_result *r,
		     rlog_sim_progress_cb progress, void *ctx)
{
	memset(r, 0, sizeof(*r));
	struct rlog_sim_trial t;
	rlog_sim_trial_init(&t, cfg->seed);
	struct rlog_sim_outcome o;
	int rv = rlog_sim_run_trial(s, &t, &o);
	if (rv != 0) {
		return rv;
	}
	r->trials = 1;
	r->ops = o.ops;
	r->trace_hash = o.trace_hash;
	r->recoveries = o.recoveries;
	if (o.failed) {
		r->failed = true;
		r->line = o.line;
		snprintf(r->msg, sizeof(r->msg), "%s", o.msg);
		return 0;
	}
	uint64_t n = o.ops;
	uint64_t points = n <= cfg->max_points ? n : cfg->max_points;
	uint32_t fates = cfg->fates ? cfg->fates : 1;
	if (device_fate(s->options.fate) == RLOG_SIM_FATE_LOSE_UNSYNCED) {
		fates = 1;
	}
	for (uint64_t p = 0; p < points; p++) {
		/* All points in order, or an even seeded sample of them. */
		uint64_t k = n <= cfg->max_points
				 ? p + 1
				 : 1 + (p * n) / points +
				       rlog_sim_mix(cfg->seed, p) %
					   (n / points ? n / points : 1);
		if (k > n) {
			k = n;
		}
		for (uint32_t f = 0; f < fates; f++) {
			rlog_sim_trial_init(&t, cfg->seed);
			t.crash_at = k;
			t.fate = f;
			t.nested = cfg->nested && f == 0;
			t.check_append = cfg->check_append && f == 0;
			rv = rlog_sim_run_trial(s, &t, &o);
			if (rv != 0) {
				return rv;
			}
			r->trials++;
			r->recoveries += o.recoveries;
			if (o.failed) {
				r->failed = true;
				r->line = o.line;
				r->fail_point = k;
				r->fail_fate = f;
				r->fail_nested = t.nested;
				snprintf(r->msg, sizeof(r->msg), "%s", o.msg);
				r->points = p + 1;
				return 0;
			}
			if (o.nothing_pending || !o.crashed_at_point) {
				break; /* every fate would be the same */
			}
		}
		r->points = p + 1;
		if (progress != NULL) {
			progress(ctx, p + 1, points);
		}
	}
	return 0;
}
