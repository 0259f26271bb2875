#ifndef VIGIL_WIRE_H
#define VIGIL_WIRE_H
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

/* Result of vigil_wire_guard_check. */
typedef enum {
    VIGIL_WIRE_OK = 0,
    VIGIL_WIRE_TRUNCATED = 1,   /* a varint, length or fixed field runs past the end */
    VIGIL_WIRE_BAD_WIRE_TYPE = 2, /* wire type 3, 4, 6 or 7, or a known field with the wrong wire type */
    VIGIL_WIRE_TOO_DEEP = 3,    /* messages nested deeper than max_depth */
    VIGIL_WIRE_BAD_TAG = 4      /* field number 0 */
} VigilWireStatus;

/* A byte range inside a serialized message. */
typedef struct {
    size_t offset;
    size_t length;
} VigilWireRange;

/* Ranges collected by vigil_wire_guard_scan; free with vigil_wire_ranges_free. */
typedef struct {
    size_t min_length;      /* set by the caller: record bytes fields at least this long */
    VigilWireRange *items;
    size_t count;
    size_t capacity;
} VigilWireRanges;

/* Walks a serialized message without allocating, following nested messages through the
 * descriptor, so that hostile input is rejected before protobuf-c recurses or allocates.
 * On failure *offset holds the byte offset of the problem. */
VigilWireStatus vigil_wire_guard_check(const ProtobufCMessageDescriptor *descriptor,
                                       const uint8_t *data, size_t length,
                                       unsigned max_depth, size_t *offset);

/* Like vigil_wire_guard_check, and also records, in file order, the payload ranges of bytes
 * fields of at least large_bytes->min_length bytes (large_bytes may be NULL). */
VigilWireStatus vigil_wire_guard_scan(const ProtobufCMessageDescriptor *descriptor,
                                      const uint8_t *data, size_t length,
                                      unsigned max_depth, size_t *offset,
                                      VigilWireRanges *large_bytes);

void vigil_wire_ranges_free(VigilWireRanges *ranges);

/* A malloc-based protobuf-c allocator that drops the mapped source pages of each large bytes
 * field once protobuf-c has copied it, so that unpacking a memory-mapped model needs about one
 * copy of its weights instead of two. Buffers it returns are freed with free(). */
typedef struct {
    ProtobufCAllocator allocator;
    const uint8_t *base;
    const VigilWireRanges *ranges;
    size_t next;
    size_t page_size;
} VigilReleasingAllocator;

void vigil_releasing_allocator_init(VigilReleasingAllocator *allocator, const uint8_t *base,
                                    const VigilWireRanges *ranges);
/* Drops the pages of the last large field after unpacking. */
void vigil_releasing_allocator_finish(VigilReleasingAllocator *allocator);

/* Serializes a message straight into a file descriptor through a 1 MiB buffer, so that large
 * tensors are never copied into one big in-memory buffer. Returns 0, or an errno value.
 * *written receives the number of bytes written. */
int vigil_wire_pack_to_fd(const ProtobufCMessage *message, int fd, uint64_t *written);

/* Descriptors as functions: Swift cannot take the address of an imported const global directly. */
const ProtobufCMessageDescriptor *vigil_onnx__model_proto__descriptor_pointer(void);
const ProtobufCMessageDescriptor *vigil_onnx__tensor_proto__descriptor_pointer(void);

#endif
