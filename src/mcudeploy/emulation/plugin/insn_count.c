/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mcudeploy: QEMU TCG plugin counting executed guest instructions exactly, by kind.
 *
 * Each instruction is decoded once, when QEMU translates it (thumb_decode.c), into a
 * timing kind and the pipeline events it takes part in. Every executed instruction
 * then adds one to the counter of its kind in the bucket of the function (address
 * range) it lies in, or the "other" bucket, through inline counters, never a per-block
 * estimate. A conditional branch ends its translation block; whether it was taken is
 * decided when the next block starts: untaken when that block is the fall-through. Three events are
 * also decided then: an untaken 16-bit branch paired with the 16-bit instruction before it, a taken
 * 16-bit direct branch paired with it when it sets no flags, and a taken branch (conditional or not)
 * whose target is a 32-bit instruction at address % 4 == 2.
 * The pairwise events are priced inside a block, and across the seam where a block falls through
 * into the next one (QEMU cuts straight-line code at page boundaries and after a number of
 * instructions): there the second block is priced once more, as the rest of the first one (the
 * instruction before it, dual issue, IT block and run of 32-bit instructions at address % 4 == 2
 * carried on), and the difference is added at each entry by fall-through.
 *
 * Optional views, all exact:
 *   marks   an instruction address (a checkpoint function): every execution records the
 *           counts so far, and each scope's, so a program can bracket a region of interest;
 *   scopes  entry addresses of functions whose calls are attributed inclusively (callees
 *           included) until execution reaches a closer range (their caller);
 *   regions labelled address ranges: every data access is counted by region, read or
 *           write, and reads of cached regions go through a set-associative LRU cache model;
 *   icache  a second such cache for instruction fetch from cached regions: each executed block
 *           looks up, in order, every line its instructions span, and a miss counts as the event
 *           fetch_miss_branch when it is the first line of a block not entered straight on from the
 *           block before (a taken branch, call, return or exception), else fetch_miss_sequential;
 *   unified data reads of cached regions go through the icache too (one cache on the code bus
 *           serving fetch and data reads, e.g. ST's ICACHE): `cache` is then not used.
 * Unaligned data accesses are counted in every run, as events, by the aligned transfers they split into.
 *
 * Arguments (-plugin insn_count.so,out=FILE[,ranges=FILE][,marks=FILE][,scopes=FILE,closers=FILE]
 *            [,regions=FILE][,cache=LINE:SETS:WAYS][,icache=LINE:SETS:WAYS][,unified=1]):
 *   ranges  "START END" per line (hex, END exclusive, sorted, not overlapping)
 *   marks   "ADDRESS" per line (hex)            scopes  "ENTRY" per line (hex)
 *   closers "START END" per line (hex)          regions "START END CACHED" per line (hex hex 0|1)
 * A counter vector is: one count per kind, one per event (the decoder's, then the two fetch
 * misses), then reads, writes and cache misses per region (the last region is "anywhere else"). Output lines: "kinds NAMES...",
 * "events NAMES...", "regions N", "total N", "other VECTOR", "range START END VECTOR",
 * "scope ENTRY CALLS VECTOR", "mark ADDRESS N VECTOR" (N = instructions before the mark,
 * VECTOR = totals so far) each followed by one "mark_scope ENTRY VECTOR" per scope (its totals so
 * far), "marks_dropped N".
 *
 * Debian ships QEMU with the plugin API but without its header, so the handful of
 * version-1 API entry points used here are declared below by hand. The plugin runs inside
 * QEMU's process against that API (qemu-plugin.h, GPL-2.0-or-later), hence its licence; it is
 * a host tool, never part of a firmware (docs/architecture.md).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thumb_decode.h"

/* ---- The part of QEMU's plugin API (version 1) that we use. ---- */
typedef uint64_t plugin_id;
typedef uint32_t plugin_meminfo;
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum { PLUGIN_INLINE_ADD_U64 = 0 };
enum { PLUGIN_CB_NO_REGS = 0 };
enum { PLUGIN_MEM_READ_WRITE = 3 };

typedef void (*tb_translated_fn)(plugin_id id, struct qemu_plugin_tb *tb);
typedef void (*vcpu_udata_fn)(unsigned int vcpu_index, void *udata);
typedef void (*vcpu_memory_fn)(unsigned int vcpu_index, plugin_meminfo info, uint64_t vaddr, void *udata);
typedef void (*plugin_udata_fn)(plugin_id id, void *udata);

void qemu_plugin_register_vcpu_tb_trans_cb(plugin_id id, tb_translated_fn callback);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, vcpu_udata_fn callback, int flags, void *udata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t index);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, int op, void *counter,
                                                uint64_t increment);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, vcpu_udata_fn callback, int flags,
                                            void *udata);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, vcpu_memory_fn callback, int flags, int rw,
                                      void *udata);
bool qemu_plugin_mem_is_store(plugin_meminfo info);
unsigned int qemu_plugin_mem_size_shift(plugin_meminfo info);
void qemu_plugin_register_atexit_cb(plugin_id id, plugin_udata_fn callback, void *udata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;
__attribute__((visibility("default"))) int qemu_plugin_install(plugin_id id, const void *info, int argc,
                                                                  char **argv);

/* ---- Our state. ---- */
#define MAX_MARK_HITS (1u << 16)
/* Branch predictor model: 2-bit saturating counters (taken when >= 2) indexed by address. */
#define PREDICTOR_ENTRIES 4096u
#define MAX_COUNTS (2 + EVENT_COUNT)
/* Events of the instruction-fetch cache, counted after the decoder's. */
enum fetch_event { FETCH_MISS_BRANCH, FETCH_MISS_SEQUENTIAL, FETCH_EVENT_COUNT };
static const char *const FETCH_EVENT_NAMES[FETCH_EVENT_COUNT] = {"fetch_miss_branch", "fetch_miss_sequential"};
#define REGION_READ 0
#define REGION_WRITE 1
#define REGION_MISS 2

struct address_list {
    uint64_t *items;
    size_t count;
};

struct region {
    uint64_t start;
    uint64_t end;
    bool cached;
};

/* A set-associative cache with LRU replacement; tags hold line + 1 (0 = empty, no tags: not asked for). */
struct cache {
    unsigned line_shift;
    size_t sets;
    size_t ways;
    uint64_t *tags;
    uint64_t *last_use;
    uint64_t clock;
};

/* The counter increments one execution of an instruction makes. */
struct plan {
    unsigned count;
    uint64_t *counters[MAX_COUNTS];
    uint64_t increments[MAX_COUNTS];
};

struct scope {
    uint64_t entry;
    uint64_t calls;
    uint64_t *totals;
};

enum hook_type { HOOK_MARK, HOOK_OPEN_SCOPE, HOOK_CLOSE_SCOPE };

/* An instruction counted by a callback (not inline) because it also takes a snapshot. */
struct hook {
    enum hook_type type;
    uint64_t address;
    struct scope *scope;
    struct plan plan;
};

struct branch_site {
    uint64_t *bucket;
    uint64_t address;
    uint64_t fallthrough;
    uint8_t taken_kind;
    bool narrow_pair; /* 16-bit, after a 16-bit instruction: untaken, the two issue together */
    bool flagless_pair; /* 16-bit direct branch after a 16-bit instruction setting no flags: taken, likewise */
};

/* A run of consecutive 32-bit instructions at address % 4 == 2. */
struct unaligned_run {
    unsigned length;
    bool other_than_stores;
    bool counted;
};

/* What the pipeline events of the next instruction depend on. */
struct pipeline {
    bool started;              /* `previous` holds the instruction before (none at a block start) */
    struct decoded previous;
    bool paired;               /* `previous` issued as the second of a pair */
    unsigned it_remaining;     /* instructions left in the current IT block */
    struct unaligned_run run;
};

/* An instruction of a block as translated, kept to price the block again after a seam. */
struct instruction_copy {
    uint64_t address;
    uint8_t bytes[4];
    uint8_t size;
    uint64_t *bucket;
};

/* Counter increments one entry of a block by fall-through adds (any number; wrapping adds subtract). */
struct seam {
    const struct block *from;   /* the block before, whose exit state the increments were priced with ... */
    uint64_t from_version;      /* ... as translated (0) or as entered through its own seam of this version */
    uint64_t version;           /* a new number each time this seam is priced */
    struct pipeline exit;       /* the pipeline state after the block entered this way */
    size_t count;
    uint64_t **counters;
    uint64_t *increments;
    struct branch_site *branch; /* the block's conditional branch as priced after `from`, if it is the first */
};

/* A cache line an executed block fetches from a cached region, counted in its first instruction's bucket. */
struct fetch_line {
    uint64_t address;
    uint64_t *bucket;
};

struct block {
    uint64_t address;
    uint64_t end;               /* the address after its last instruction */
    struct branch_site *branch; /* the conditional branch that ends the block, if any */
    bool jumps;                 /* ends with an unconditional PC write: the next block is its target */
    bool unaligned_wide_entry;  /* starts with a 32-bit instruction at address % 4 == 2 */
    uint64_t *entry_bucket;     /* the bucket of its first instruction */
    size_t count;
    struct instruction_copy *instructions;
    struct pipeline exit;       /* the pipeline state after its last instruction */
    struct seam seam;           /* priced at the first entry by fall-through from `seam.from` */
    size_t fetch_count;
    struct fetch_line *fetch_lines; /* the lines its instructions span, in order, each once */
};

struct mark_hit {
    uint64_t address;
    uint64_t *totals;
    uint64_t *scope_totals; /* each scope's totals at the mark, one vector per scope */
};

static char *output_path;
static struct address_list range_starts;
static struct address_list range_ends;
static struct address_list mark_addresses;
static struct address_list scope_entries;
static struct address_list closer_starts;
static struct address_list closer_ends;
static struct region *regions;
static size_t region_count;
static struct cache cache;
static struct cache fetch_cache;
static struct cache *data_cache = &cache; /* &fetch_cache when unified */
static uint64_t last_fetch_line; /* line + 1 of the last instruction fetched from a cached region, 0: none */

static size_t vector_length;
/* One counter vector per range, then the "other" bucket. */
static uint64_t *buckets;
static struct scope *scopes;
static struct scope *open_scope;
static uint64_t *open_totals;
static uint64_t *close_totals;
static struct branch_site *pending_branch;
static bool previous_block_jumps;
static const struct block *previous_block;
static const struct pipeline *previous_exit; /* the state it left: its own exit or its seam's */
static uint64_t previous_version;            /* 0, or the version of the seam it was entered through */
static uint64_t seam_versions;
static uint8_t predictor[PREDICTOR_ENTRIES];
static struct mark_hit *mark_hits;
static size_t mark_hit_count;
static size_t mark_hits_dropped;

static size_t event_slot(unsigned event)
{
    return KIND_COUNT + event;
}

static size_t fetch_slot(unsigned event)
{
    return KIND_COUNT + EVENT_COUNT + event;
}

static size_t region_slot(size_t region, unsigned what)
{
    return KIND_COUNT + EVENT_COUNT + FETCH_EVENT_COUNT + 3 * region + what;
}

/* ---- Argument files. ---- */

static bool append_address(struct address_list *list, uint64_t value)
{
    uint64_t *grown = realloc(list->items, (list->count + 1) * sizeof *grown);
    if (grown == NULL) {
        return false;
    }
    grown[list->count++] = value;
    list->items = grown;
    return true;
}

/* Reads whitespace-separated hex numbers; with `second`, numbers alternate between the lists. */
static bool read_addresses(const char *path, struct address_list *first, struct address_list *second)
{
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        fprintf(stderr, "insn_count: cannot open %s\n", path);
        return false;
    }
    uint64_t value;
    bool ok = true;
    for (size_t index = 0; ok && fscanf(file, "%" SCNx64, &value) == 1; index++) {
        struct address_list *list = (second != NULL && index % 2 == 1) ? second : first;
        ok = append_address(list, value);
    }
    fclose(file);
    return ok && (second == NULL || first->count == second->count);
}

static bool read_regions(const char *path)
{
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        fprintf(stderr, "insn_count: cannot open %s\n", path);
        return false;
    }
    uint64_t start;
    uint64_t end;
    unsigned cached;
    bool ok = true;
    while (ok && fscanf(file, "%" SCNx64 " %" SCNx64 " %u", &start, &end, &cached) == 3) {
        struct region *grown = realloc(regions, (region_count + 1) * sizeof *grown);
        ok = grown != NULL;
        if (ok) {
            grown[region_count++] = (struct region){start, end, cached != 0};
            regions = grown;
        }
    }
    fclose(file);
    return ok;
}

static bool parse_cache(const char *text, struct cache *cache)
{
    unsigned line;
    size_t sets;
    size_t ways;
    if (sscanf(text, "%u:%zu:%zu", &line, &sets, &ways) != 3 || line == 0 || (line & (line - 1)) != 0 ||
        sets == 0 || ways == 0) {
        return false;
    }
    cache->line_shift = (unsigned)__builtin_ctz(line);
    cache->sets = sets;
    cache->ways = ways;
    cache->tags = calloc(sets * ways, sizeof *cache->tags);
    cache->last_use = calloc(sets * ways, sizeof *cache->last_use);
    return cache->tags != NULL && cache->last_use != NULL;
}

static bool key_is(const char *argument, size_t key_length, const char *key)
{
    return key_length == strlen(key) && strncmp(argument, key, key_length) == 0;
}

static bool parse_argument(const char *argument)
{
    const char *value = strchr(argument, '=');
    if (value == NULL) {
        return false;
    }
    const size_t key_length = (size_t)(value - argument);
    value++;
    if (key_is(argument, key_length, "out")) {
        output_path = strdup(value);
        return output_path != NULL;
    }
    if (key_is(argument, key_length, "ranges")) {
        return read_addresses(value, &range_starts, &range_ends);
    }
    if (key_is(argument, key_length, "marks")) {
        return read_addresses(value, &mark_addresses, NULL);
    }
    if (key_is(argument, key_length, "scopes")) {
        return read_addresses(value, &scope_entries, NULL);
    }
    if (key_is(argument, key_length, "closers")) {
        return read_addresses(value, &closer_starts, &closer_ends);
    }
    if (key_is(argument, key_length, "regions")) {
        return read_regions(value);
    }
    if (key_is(argument, key_length, "cache")) {
        return parse_cache(value, &cache);
    }
    if (key_is(argument, key_length, "icache")) {
        return parse_cache(value, &fetch_cache);
    }
    if (key_is(argument, key_length, "unified")) {
        data_cache = &fetch_cache;
        return strcmp(value, "1") == 0;
    }
    return false;
}

/* ---- Counting. ---- */

static size_t bucket_of(uint64_t address)
{
    size_t low = 0;
    size_t high = range_starts.count;
    while (low < high) {
        const size_t middle = low + (high - low) / 2;
        if (address < range_starts.items[middle]) {
            high = middle;
        } else if (address >= range_ends.items[middle]) {
            low = middle + 1;
        } else {
            return middle;
        }
    }
    return range_starts.count;
}

static bool in_closer(uint64_t address)
{
    for (size_t index = 0; index < closer_starts.count; index++) {
        if (address >= closer_starts.items[index] && address < closer_ends.items[index]) {
            return true;
        }
    }
    return false;
}

/* Totals over every bucket: the counts of the whole run so far. */
static void snapshot(uint64_t *totals)
{
    memset(totals, 0, vector_length * sizeof *totals);
    for (size_t bucket = 0; bucket <= range_starts.count; bucket++) {
        const uint64_t *counts = &buckets[bucket * vector_length];
        for (size_t slot = 0; slot < vector_length; slot++) {
            totals[slot] += counts[slot];
        }
    }
}

static uint64_t instructions_in(const uint64_t *vector)
{
    uint64_t total = 0;
    for (unsigned kind = 0; kind < KIND_COUNT; kind++) {
        total += vector[kind];
    }
    return total;
}

static void apply(const struct plan *plan)
{
    for (unsigned index = 0; index < plan->count; index++) {
        *plan->counters[index] += plan->increments[index];
    }
}

static void close_scope(void)
{
    if (open_scope == NULL) {
        return;
    }
    snapshot(close_totals);
    for (size_t slot = 0; slot < vector_length; slot++) {
        open_scope->totals[slot] += close_totals[slot] - open_totals[slot];
    }
    open_scope = NULL;
}

static void record_mark(uint64_t address)
{
    if (mark_hit_count >= MAX_MARK_HITS) {
        mark_hits_dropped++;
        return;
    }
    uint64_t *totals = calloc(vector_length, sizeof *totals);
    uint64_t *scope_totals = calloc(scope_entries.count * vector_length + 1, sizeof *scope_totals);
    if (totals == NULL || scope_totals == NULL) {
        free(totals);
        free(scope_totals);
        mark_hits_dropped++;
        return;
    }
    snapshot(totals);
    for (size_t index = 0; index < scope_entries.count; index++) {
        memcpy(&scope_totals[index * vector_length], scopes[index].totals, vector_length * sizeof *scope_totals);
    }
    mark_hits[mark_hit_count++] = (struct mark_hit){address, totals, scope_totals};
}

static void on_hook_executed(unsigned int vcpu_index, void *udata)
{
    struct hook *hook = udata;
    (void)vcpu_index;
    switch (hook->type) {
    case HOOK_MARK:
        record_mark(hook->address);
        break;
    case HOOK_OPEN_SCOPE:
        close_scope();
        open_scope = hook->scope;
        open_scope->calls++;
        snapshot(open_totals);
        break;
    case HOOK_CLOSE_SCOPE:
        close_scope();
        break;
    }
    apply(&hook->plan);
}

/* Counts the conditional branch `site` as taken or not given the block executed next; true when taken. */
static bool resolve_branch(struct branch_site *site, uint64_t next_address)
{
    const bool taken = next_address != site->fallthrough;
    site->bucket[taken ? site->taken_kind : KIND_BRANCH_UNTAKEN]++;
    if (!taken && site->narrow_pair) {
        site->bucket[event_slot(EVENT_UNTAKEN_PAIRED)]++;
    }
    if (taken && site->flagless_pair) {
        site->bucket[event_slot(EVENT_TAKEN_PAIRED)]++;
    }
    if (site->taken_kind != KIND_BRANCH && site->taken_kind != KIND_LOOP_END) {
        return taken;
    }
    uint8_t *counter = &predictor[(site->address >> 1) % PREDICTOR_ENTRIES];
    if ((*counter >= 2) != taken) {
        site->bucket[event_slot(EVENT_MISPREDICT)]++;
    }
    if (taken && *counter < 3) {
        (*counter)++;
    } else if (!taken && *counter > 0) {
        (*counter)--;
    }
    return taken;
}

static void price_seam(struct block *block, const struct block *from, const struct pipeline *exit,
                       uint64_t version);
static bool cache_hit(struct cache *cache, uint64_t address);

/* Looks up the lines `block` fetches, in order; the first is the target of a branch unless the block
 * is entered straight on. A block entered straight on whose first line is the one fetched last reads it
 * from the line being fetched: no look-up. */
static void fetch_block(const struct block *block, bool straight_on)
{
    for (size_t index = 0; index < block->fetch_count; index++) {
        const struct fetch_line *fetch = &block->fetch_lines[index];
        const uint64_t line = (fetch->address >> fetch_cache.line_shift) + 1;
        const bool branch_target = index == 0 && !straight_on;
        if ((branch_target || line != last_fetch_line) && !cache_hit(&fetch_cache, fetch->address)) {
            fetch->bucket[fetch_slot(branch_target ? FETCH_MISS_BRANCH : FETCH_MISS_SEQUENTIAL)]++;
        }
        last_fetch_line = line;
    }
    if (block->fetch_count == 0) {
        last_fetch_line = 0;
    }
}

static void on_block_executed(unsigned int vcpu_index, void *udata)
{
    struct block *block = udata;
    (void)vcpu_index;
    bool taken = previous_block_jumps;
    if (pending_branch != NULL) {
        taken = resolve_branch(pending_branch, block->address);
    }
    if (taken && block->unaligned_wide_entry) {
        block->entry_bucket[event_slot(EVENT_UNALIGNED_WIDE_TARGET)]++;
    }
    pending_branch = block->branch;
    /* Straight on from the block before (never after a taken branch, an exception entry or a return):
     * the core sees one instruction stream. That includes an untaken conditional branch: the core goes on
     * fetching in order after it, so the instruction after it is priced with it as in any block (the
     * branch never pairs as the older of a dual issue; a following IT folds onto a 16-bit branch, a run
     * of 32-bit instructions at address % 4 == 2 goes on through a 32-bit one). The differences are
     * added as the block starts: a mark on its first instruction (a function entry, reached by a call in
     * practice) would see them before that instruction's own counts. */
    struct seam *seam = &block->seam;
    const bool straight_on = !taken && previous_block != NULL && previous_block->end == block->address;
    if (fetch_cache.tags != NULL) {
        fetch_block(block, straight_on);
    }
    if (straight_on) {
        if (seam->from != previous_block || seam->from_version != previous_version) {
            price_seam(block, previous_block, previous_exit, previous_version);
        }
        for (size_t index = 0; index < seam->count; index++) {
            *seam->counters[index] += seam->increments[index];
        }
        if (seam->branch != NULL) {
            pending_branch = seam->branch;
        }
        previous_exit = &seam->exit;
        previous_version = seam->version;
    } else {
        previous_exit = &block->exit;
        previous_version = 0;
    }
    previous_block_jumps = block->jumps;
    previous_block = block;
}

static bool cache_hit(struct cache *cache, uint64_t address)
{
    const uint64_t line = address >> cache->line_shift;
    const size_t first = (size_t)(line % cache->sets) * cache->ways;
    size_t victim = first;
    cache->clock++;
    for (size_t way = first; way < first + cache->ways; way++) {
        if (cache->tags[way] == line + 1) {
            cache->last_use[way] = cache->clock;
            return true;
        }
        if (cache->last_use[way] < cache->last_use[victim]) {
            victim = way;
        }
    }
    cache->tags[victim] = line + 1;
    cache->last_use[victim] = cache->clock;
    return false;
}

static size_t region_of(uint64_t address)
{
    for (size_t index = 0; index < region_count; index++) {
        if (address >= regions[index].start && address < regions[index].end) {
            return index;
        }
    }
    return region_count;
}

/* The aligned bus transfers an access of 2^size_shift bytes at `address` takes: the Armv7-M/v8-M
 * buses move only naturally aligned bytes, halfwords and words, so an unaligned halfword is two
 * byte transfers, an unaligned word a halfword pair (address % 4 == 2) or byte, halfword, byte.
 * (Only LDR/STR/LDRH/STRH/LDRSH may be unaligned: the others fault before they are counted.) */
static unsigned transfers_of(uint64_t address, unsigned size_shift)
{
    const uint64_t size = 1u << (size_shift > 2 ? 2 : size_shift); /* doublewords move as words */
    if (size == 1 || address % size == 0) {
        return 1;
    }
    return (size == 2 || address % 2 == 0) ? 2 : 3;
}

static void on_memory_access(unsigned int vcpu_index, plugin_meminfo info, uint64_t vaddr, void *udata)
{
    uint64_t *bucket = udata;
    (void)vcpu_index;
    const unsigned transfers = transfers_of(vaddr, qemu_plugin_mem_size_shift(info));
    if (transfers > 1) {
        bucket[event_slot(transfers == 2 ? EVENT_UNALIGNED_SPLIT_2 : EVENT_UNALIGNED_SPLIT_3)]++;
    }
    const size_t region = region_of(vaddr);
    if (qemu_plugin_mem_is_store(info)) {
        bucket[region_slot(region, REGION_WRITE)]++;
        return;
    }
    bucket[region_slot(region, REGION_READ)]++;
    if (data_cache->tags != NULL && region < region_count && regions[region].cached && !cache_hit(data_cache, vaddr)) {
        bucket[region_slot(region, REGION_MISS)]++;
    }
}

/* ---- Instrumentation at translation time. ---- */

/* Zeroed memory for translation-time records; QEMU cannot go on without them. */
static void *allocate(size_t size)
{
    void *memory = calloc(1, size);
    if (memory == NULL) {
        fprintf(stderr, "insn_count: out of memory\n");
        abort();
    }
    return memory;
}

static void add_to_plan(struct plan *plan, uint64_t *counter, uint64_t increment)
{
    if (increment != 0 && plan->count < MAX_COUNTS) {
        plan->counters[plan->count] = counter;
        plan->increments[plan->count] = increment;
        plan->count++;
    }
}

static ptrdiff_t index_of(const struct address_list *list, uint64_t address)
{
    for (size_t index = 0; index < list->count; index++) {
        if (list->items[index] == address) {
            return (ptrdiff_t)index;
        }
    }
    return -1;
}

/* A callback for checkpoints and scope boundaries, inline counters for everything else. */
static void instrument(struct qemu_plugin_insn *insn, uint64_t address, const struct plan *plan)
{
    const ptrdiff_t mark = index_of(&mark_addresses, address);
    const ptrdiff_t scope = index_of(&scope_entries, address);
    const bool closes = in_closer(address);
    if (mark < 0 && scope < 0 && !closes) {
        for (unsigned index = 0; index < plan->count; index++) {
            qemu_plugin_register_vcpu_insn_exec_inline(insn, PLUGIN_INLINE_ADD_U64, plan->counters[index],
                                                       plan->increments[index]);
        }
        return;
    }
    struct hook *hook = allocate(sizeof *hook);
    hook->type = mark >= 0 ? HOOK_MARK : (scope >= 0 ? HOOK_OPEN_SCOPE : HOOK_CLOSE_SCOPE);
    hook->address = address;
    hook->scope = scope >= 0 ? &scopes[scope] : NULL;
    hook->plan = *plan;
    qemu_plugin_register_vcpu_insn_exec_cb(insn, on_hook_executed, PLUGIN_CB_NO_REGS, hook);
}

static struct branch_site *new_branch_site(uint64_t *bucket, uint64_t address, uint64_t fallthrough,
                                           unsigned taken_kind, bool narrow_pair, bool flagless_pair)
{
    struct branch_site *site = allocate(sizeof *site);
    site->bucket = bucket;
    site->address = address;
    site->fallthrough = fallthrough;
    site->taken_kind = (uint8_t)taken_kind;
    site->narrow_pair = narrow_pair;
    site->flagless_pair = flagless_pair;
    return site;
}

/* Kinds that always write the PC: the block after one is its target. */
static bool always_jumps(unsigned kind)
{
    return kind == KIND_BRANCH || kind == KIND_CALL || kind == KIND_BRANCH_INDIRECT || kind == KIND_BRANCH_LOAD ||
           kind == KIND_BRANCH_TABLE || kind == KIND_LOOP_END;
}

/* True when the instruction makes its run long enough to cost a fetch cycle: the third instruction,
 * or the fourth when the run so far holds single stores only; once per run. */
static bool unaligned_run_grows_costly(struct unaligned_run *run, const struct decoded *decoded, uint64_t address)
{
    if (decoded->size != 4 || address % 4 != 2) {
        *run = (struct unaligned_run){0};
        return false;
    }
    run->length++;
    run->other_than_stores |= decoded->kind != KIND_STORE;
    const bool costly = !run->counted && run->length >= (run->other_than_stores ? 3u : 4u);
    run->counted |= costly;
    return costly;
}

/* Decodes the instruction after `state`, adds its pipeline events to `events` and moves `state` on to it. */
static struct decoded step(struct pipeline *state, const struct instruction_copy *copy, unsigned events[EVENT_COUNT])
{
    const struct decoded decoded = thumb_decode(copy->bytes, copy->size, state->it_remaining > 0);
    state->it_remaining = state->it_remaining > 0 ? state->it_remaining - 1 : thumb_it_length(copy->bytes, &decoded);
    thumb_events(state->started ? &state->previous : NULL, &decoded, &state->paired, events);
    events[EVENT_UNALIGNED_WIDE_RUN] += unaligned_run_grows_costly(&state->run, &decoded, copy->address);
    state->started = true;
    state->previous = decoded;
    return decoded;
}

/* The conditional branch `decoded` ending a block, priced after `previous` (NULL: first of its block).
 * A branch pairs only as the younger instruction: never with an (untaken) branch before it, which only
 * a seam can put there (a branch ends its block). */
static struct branch_site *branch_site_of(const struct instruction_copy *copy, const struct decoded *decoded,
                                          const struct decoded *previous)
{
    if (previous != NULL && always_jumps(previous->kind)) {
        previous = NULL;
    }
    const bool narrow_pair = decoded->size == 2 && previous != NULL && previous->size == 2;
    const bool flagless_pair =
        previous != NULL && decoded->kind == KIND_BRANCH && thumb_issues_with_branch(previous, decoded);
    return new_branch_site(copy->bucket, copy->address, copy->address + decoded->size, decoded->kind, narrow_pair,
                           flagless_pair);
}

static void add_to_seam(struct seam *seam, uint64_t *counter, uint64_t increment)
{
    uint64_t **counters = realloc(seam->counters, (seam->count + 1) * sizeof *counters);
    uint64_t *increments = realloc(seam->increments, (seam->count + 1) * sizeof *increments);
    if (counters == NULL || increments == NULL) {
        fprintf(stderr, "insn_count: out of memory\n");
        abort();
    }
    counters[seam->count] = counter;
    increments[seam->count] = increment;
    seam->counters = counters;
    seam->increments = increments;
    seam->count++;
}

/* Prices `block` entered straight from `from` as the rest of `from`: its instructions once more with the
 * pipeline state `from` left, `exit` (the instruction before, dual issue, IT block, unaligned run), and as
 * translated (from nothing); the differences of events, in each instruction's own bucket, are what such
 * an entry adds. Priced again only when the predecessor or the state it leaves changes: every block
 * ending at `block->address` is a predecessor (a page-boundary cut can end several); a short block
 * entered through its own seam leaves that seam's state (`version`). Blocks are never freed, and a
 * block translated again is a new block with its own seam. Kinds keep the translation's decoding: a
 * block QEMU starts inside an IT block counts a conditional PC write there as always taken. */
static void price_seam(struct block *block, const struct block *from, const struct pipeline *exit,
                       uint64_t version)
{
    struct seam *seam = &block->seam;
    seam->from = from;
    seam->from_version = version;
    seam->version = ++seam_versions;
    seam->count = 0;
    free(seam->branch); /* resolved already: the branch pending now is the block's own */
    seam->branch = NULL;
    struct pipeline carried = *exit;
    struct pipeline fresh = {0};
    for (size_t index = 0; index < block->count; index++) {
        const struct instruction_copy *copy = &block->instructions[index];
        const struct decoded before = carried.previous;
        unsigned events[EVENT_COUNT] = {0};
        unsigned translated[EVENT_COUNT] = {0};
        const struct decoded decoded = step(&carried, copy, events);
        step(&fresh, copy, translated);
        for (unsigned event = 0; event < EVENT_COUNT; event++) {
            if (events[event] != translated[event]) {
                add_to_seam(seam, &copy->bucket[event_slot(event)], (uint64_t)events[event] - translated[event]);
            }
        }
        if (index == 0 && block->branch != NULL && block->count == 1) {
            seam->branch = branch_site_of(copy, &decoded, &before);
        }
    }
    seam->exit = carried;
}

static size_t region_of(uint64_t address);

/* Adds the cache lines an instruction of `size` bytes at `address` spans to those its block fetches,
 * when it lies in a cached region and the fetch cache was asked for. */
static void add_fetch_lines(struct block *block, uint64_t address, unsigned size, uint64_t *bucket)
{
    const size_t region = region_of(address);
    if (fetch_cache.tags == NULL || region >= region_count || !regions[region].cached) {
        return;
    }
    const unsigned shift = fetch_cache.line_shift;
    for (uint64_t line = address >> shift; line <= (address + size - 1) >> shift; line++) {
        const size_t count = block->fetch_count;
        if (count > 0 && block->fetch_lines[count - 1].address >> shift == line) {
            continue;
        }
        struct fetch_line *grown = realloc(block->fetch_lines, (count + 1) * sizeof *grown);
        if (grown == NULL) {
            fprintf(stderr, "insn_count: out of memory\n");
            abort();
        }
        grown[count] = (struct fetch_line){line << shift, bucket};
        block->fetch_lines = grown;
        block->fetch_count = count + 1;
    }
}

static void on_tb_translated(plugin_id id, struct qemu_plugin_tb *tb)
{
    (void)id;
    const size_t count = qemu_plugin_tb_n_insns(tb);
    struct block *block = allocate(sizeof *block);
    block->address = qemu_plugin_tb_vaddr(tb);
    block->count = count;
    block->instructions = allocate(count * sizeof *block->instructions);
    struct pipeline *state = &block->exit;
    for (size_t index = 0; index < count; index++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, index);
        struct instruction_copy *copy = &block->instructions[index];
        const size_t size = qemu_plugin_insn_size(insn);
        copy->address = qemu_plugin_insn_vaddr(insn);
        copy->size = (uint8_t)(size < sizeof copy->bytes ? size : sizeof copy->bytes);
        memcpy(copy->bytes, qemu_plugin_insn_data(insn), copy->size);
        copy->bucket = &buckets[bucket_of(copy->address) * vector_length];
        const uint64_t address = copy->address;
        uint64_t *bucket = copy->bucket;
        const struct decoded previous = state->previous;
        unsigned events[EVENT_COUNT] = {0};
        const struct decoded decoded = step(state, copy, events);
        /* A conditional branch is the last instruction of its block: counted when the next block starts. */
        const bool deferred = decoded.conditional && index + 1 == count;
        struct plan plan = {0};
        if (index == 0) {
            block->unaligned_wide_entry = decoded.size == 4 && address % 4 == 2;
            block->entry_bucket = bucket;
        }
        if (deferred) {
            block->branch = branch_site_of(copy, &decoded, index > 0 ? &previous : NULL);
        } else {
            add_to_plan(&plan, &bucket[decoded.kind], 1);
            block->jumps = index + 1 == count && always_jumps(decoded.kind);
        }
        for (unsigned event = 0; event < EVENT_COUNT; event++) {
            add_to_plan(&plan, &bucket[event_slot(event)], events[event]);
        }
        instrument(insn, address, &plan);
        add_fetch_lines(block, address, decoded.size, bucket);
        /* Every run: unaligned accesses are pipeline events, priced whatever regions were asked for. */
        qemu_plugin_register_vcpu_mem_cb(insn, on_memory_access, PLUGIN_CB_NO_REGS, PLUGIN_MEM_READ_WRITE, bucket);
        block->end = address + decoded.size;
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block_executed, PLUGIN_CB_NO_REGS, block);
}

/* ---- Output. ---- */

static void write_vector(FILE *file, const uint64_t *vector)
{
    for (size_t slot = 0; slot < vector_length; slot++) {
        fprintf(file, " %" PRIu64, vector[slot]);
    }
    fputc('\n', file);
}

static void write_names(FILE *file)
{
    fputs("kinds", file);
    for (unsigned kind = 0; kind < KIND_COUNT; kind++) {
        fprintf(file, " %s", KIND_NAMES[kind]);
    }
    fputs("\nevents", file);
    for (unsigned event = 0; event < EVENT_COUNT; event++) {
        fprintf(file, " %s", EVENT_NAMES[event]);
    }
    for (unsigned event = 0; event < FETCH_EVENT_COUNT; event++) {
        fprintf(file, " %s", FETCH_EVENT_NAMES[event]);
    }
    fprintf(file, "\nregions %zu\n", region_count);
}

static void write_counts(FILE *file, const uint64_t *totals)
{
    write_names(file);
    fprintf(file, "total %" PRIu64 "\n", instructions_in(totals));
    fputs("other", file);
    write_vector(file, &buckets[range_starts.count * vector_length]);
    for (size_t index = 0; index < range_starts.count; index++) {
        const uint64_t *vector = &buckets[index * vector_length];
        if (instructions_in(vector) != 0) {
            fprintf(file, "range %" PRIx64 " %" PRIx64, range_starts.items[index], range_ends.items[index]);
            write_vector(file, vector);
        }
    }
    for (size_t index = 0; index < scope_entries.count; index++) {
        fprintf(file, "scope %" PRIx64 " %" PRIu64, scopes[index].entry, scopes[index].calls);
        write_vector(file, scopes[index].totals);
    }
    for (size_t index = 0; index < mark_hit_count; index++) {
        fprintf(file, "mark %" PRIx64 " %" PRIu64, mark_hits[index].address, instructions_in(mark_hits[index].totals));
        write_vector(file, mark_hits[index].totals);
        for (size_t scope = 0; scope < scope_entries.count; scope++) {
            fprintf(file, "mark_scope %" PRIx64, scopes[scope].entry);
            write_vector(file, &mark_hits[index].scope_totals[scope * vector_length]);
        }
    }
    fprintf(file, "marks_dropped %zu\n", mark_hits_dropped);
}

static void on_qemu_exit(plugin_id id, void *udata)
{
    (void)id;
    (void)udata;
    close_scope();
    uint64_t *totals = calloc(vector_length, sizeof *totals);
    FILE *file = fopen(output_path, "w");
    if (file == NULL || totals == NULL) {
        fprintf(stderr, "insn_count: cannot write %s\n", output_path);
        free(totals);
        if (file != NULL) {
            fclose(file);
        }
        return;
    }
    snapshot(totals);
    write_counts(file, totals);
    fclose(file);
    free(totals);
}

static bool allocate_state(void)
{
    vector_length = KIND_COUNT + EVENT_COUNT + FETCH_EVENT_COUNT + 3 * (region_count + 1);
    buckets = calloc((range_starts.count + 1) * vector_length, sizeof *buckets);
    scopes = calloc(scope_entries.count + 1, sizeof *scopes);
    open_totals = calloc(vector_length, sizeof *open_totals);
    close_totals = calloc(vector_length, sizeof *close_totals);
    mark_hits = calloc(mark_addresses.count > 0 ? MAX_MARK_HITS : 1, sizeof *mark_hits);
    if (buckets == NULL || scopes == NULL || open_totals == NULL || close_totals == NULL || mark_hits == NULL) {
        return false;
    }
    for (size_t index = 0; index < scope_entries.count; index++) {
        scopes[index].entry = scope_entries.items[index];
        scopes[index].totals = calloc(vector_length, sizeof *scopes[index].totals);
        if (scopes[index].totals == NULL) {
            return false;
        }
    }
    return true;
}

int qemu_plugin_install(plugin_id id, const void *info, int argc, char **argv)
{
    (void)info;
    for (int index = 0; index < argc; index++) {
        if (!parse_argument(argv[index])) {
            fprintf(stderr, "insn_count: bad argument '%s'\n", argv[index]);
            return -1;
        }
    }
    if (output_path == NULL) {
        fprintf(stderr, "insn_count: the out=FILE argument is required\n");
        return -1;
    }
    memset(predictor, 1, sizeof predictor); /* weakly not taken */
    if (!allocate_state()) {
        fprintf(stderr, "insn_count: cannot read ranges/marks or allocate counters\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_translated);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
