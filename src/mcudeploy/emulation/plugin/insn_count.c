/* mcudeploy: QEMU TCG plugin counting executed guest instructions exactly.
 *
 * Every translated instruction gets an inline counter increment (never a per-block
 * estimate), into the bucket of the address range it lies in, or the "other" bucket.
 * Instructions at mark addresses instead get a callback that also logs how many
 * instructions ran before them, so a program can bracket a region of interest.
 *
 * Arguments (-plugin insn_count.so,out=FILE[,ranges=FILE][,marks=FILE]):
 *   out     counts are written there when QEMU exits
 *   ranges  one "START END" per line (hex, END exclusive, sorted, not overlapping)
 *   marks   one "ADDRESS" per line (hex)
 * Output lines: "total N", "other N", "range START END N" per range, "mark ADDRESS N" per hit.
 *
 * Debian ships QEMU with the plugin API but without its header, so the handful of
 * version-1 API entry points used here are declared below by hand.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The part of QEMU's plugin API (version 1) that we use. ---- */
typedef uint64_t plugin_id;
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum { PLUGIN_INLINE_ADD_U64 = 0 };
enum { PLUGIN_CB_NO_REGS = 0 };

typedef void (*tb_translated_fn)(plugin_id id, struct qemu_plugin_tb *tb);
typedef void (*vcpu_udata_fn)(unsigned int vcpu_index, void *udata);
typedef void (*plugin_udata_fn)(plugin_id id, void *udata);

void qemu_plugin_register_vcpu_tb_trans_cb(plugin_id id, tb_translated_fn callback);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t index);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, int op, void *counter,
                                                uint64_t increment);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, vcpu_udata_fn callback, int flags,
                                            void *udata);
void qemu_plugin_register_atexit_cb(plugin_id id, plugin_udata_fn callback, void *udata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;
__attribute__((visibility("default"))) int qemu_plugin_install(plugin_id id, const void *info, int argc,
                                                                  char **argv);

/* ---- Our state. ---- */
#define MAX_MARK_HITS (1u << 20)

struct address_list {
    uint64_t *items;
    size_t count;
};

struct mark {
    uint64_t address;
    uint64_t *bucket;
};

struct mark_hit {
    uint64_t address;
    uint64_t instructions_before;
};

static char *output_path;
static struct address_list range_starts;
static struct address_list range_ends;
static struct address_list mark_addresses;
static struct mark *marks;
/* One counter per range, then the "other" bucket. */
static uint64_t *buckets;
static struct mark_hit *mark_hits;
static size_t mark_hit_count;
static size_t mark_hits_dropped;

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

/* Reads whitespace-separated hex numbers; ranges alternate start and end. */
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

static uint64_t total_instructions(void)
{
    uint64_t total = 0;
    for (size_t index = 0; index <= range_starts.count; index++) {
        total += buckets[index];
    }
    return total;
}

static void on_mark_executed(unsigned int vcpu_index, void *udata)
{
    struct mark *mark = udata;
    (void)vcpu_index;
    if (mark_hit_count < MAX_MARK_HITS) {
        mark_hits[mark_hit_count].address = mark->address;
        mark_hits[mark_hit_count].instructions_before = total_instructions();
        mark_hit_count++;
    } else {
        mark_hits_dropped++;
    }
    (*mark->bucket)++;
}

static struct mark *mark_at(uint64_t address)
{
    for (size_t index = 0; index < mark_addresses.count; index++) {
        if (marks[index].address == address) {
            return &marks[index];
        }
    }
    return NULL;
}

static void on_tb_translated(plugin_id id, struct qemu_plugin_tb *tb)
{
    (void)id;
    const size_t count = qemu_plugin_tb_n_insns(tb);
    for (size_t index = 0; index < count; index++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, index);
        const uint64_t address = qemu_plugin_insn_vaddr(insn);
        struct mark *mark = mark_at(address);
        if (mark != NULL) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark_executed, PLUGIN_CB_NO_REGS, mark);
        } else {
            qemu_plugin_register_vcpu_insn_exec_inline(insn, PLUGIN_INLINE_ADD_U64, &buckets[bucket_of(address)], 1);
        }
    }
}

static void write_counts(FILE *file)
{
    fprintf(file, "total %" PRIu64 "\n", total_instructions());
    fprintf(file, "other %" PRIu64 "\n", buckets[range_starts.count]);
    for (size_t index = 0; index < range_starts.count; index++) {
        fprintf(file, "range %" PRIx64 " %" PRIx64 " %" PRIu64 "\n", range_starts.items[index],
                range_ends.items[index], buckets[index]);
    }
    for (size_t index = 0; index < mark_hit_count; index++) {
        fprintf(file, "mark %" PRIx64 " %" PRIu64 "\n", mark_hits[index].address,
                mark_hits[index].instructions_before);
    }
    fprintf(file, "marks_dropped %zu\n", mark_hits_dropped);
}

static void on_qemu_exit(plugin_id id, void *udata)
{
    (void)id;
    (void)udata;
    FILE *file = fopen(output_path, "w");
    if (file == NULL) {
        fprintf(stderr, "insn_count: cannot write %s\n", output_path);
        return;
    }
    write_counts(file);
    fclose(file);
}

static bool parse_argument(const char *argument)
{
    const char *value = strchr(argument, '=');
    if (value == NULL) {
        return false;
    }
    const size_t key_length = (size_t)(value - argument);
    value++;
    if (key_length == 3 && strncmp(argument, "out", 3) == 0) {
        output_path = strdup(value);
        return output_path != NULL;
    }
    if (key_length == 6 && strncmp(argument, "ranges", 6) == 0) {
        return read_addresses(value, &range_starts, &range_ends);
    }
    if (key_length == 5 && strncmp(argument, "marks", 5) == 0) {
        return read_addresses(value, &mark_addresses, NULL);
    }
    return false;
}

static bool allocate_state(void)
{
    buckets = calloc(range_starts.count + 1, sizeof *buckets);
    marks = calloc(mark_addresses.count + 1, sizeof *marks);
    mark_hits = mark_addresses.count > 0 ? calloc(MAX_MARK_HITS, sizeof *mark_hits) : NULL;
    if (buckets == NULL || marks == NULL || (mark_addresses.count > 0 && mark_hits == NULL)) {
        return false;
    }
    for (size_t index = 0; index < mark_addresses.count; index++) {
        marks[index].address = mark_addresses.items[index];
        marks[index].bucket = &buckets[bucket_of(mark_addresses.items[index])];
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
    if (!allocate_state()) {
        fprintf(stderr, "insn_count: cannot read ranges/marks or allocate counters\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_translated);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
