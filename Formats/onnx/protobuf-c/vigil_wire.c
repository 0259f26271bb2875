#include "vigil_wire.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "onnx.pb-c.h"

const ProtobufCMessageDescriptor *vigil_onnx__model_proto__descriptor_pointer(void) {
    return &vigil_onnx__model_proto__descriptor;
}

const ProtobufCMessageDescriptor *vigil_onnx__tensor_proto__descriptor_pointer(void) {
    return &vigil_onnx__tensor_proto__descriptor;
}

typedef struct {
    const ProtobufCMessageDescriptor *descriptor;
    size_t end;
} Frame;

#define VIGIL_WIRE_MAX_STACK 256

static int read_varint(const uint8_t *data, size_t end, size_t *pos, uint64_t *value) {
    uint64_t result = 0;
    unsigned shift = 0;
    while (*pos < end && shift < 70) {
        uint8_t byte = data[(*pos)++];
        result |= (uint64_t)(byte & 0x7f) << (shift < 64 ? shift : 63);
        if ((byte & 0x80) == 0) { *value = result; return 1; }
        shift += 7;
    }
    return 0;
}

static int wire_type_fits(const ProtobufCFieldDescriptor *field, unsigned wire) {
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_BOOL: case PROTOBUF_C_TYPE_ENUM:
        return wire == 0 || (wire == 2 && field->label == PROTOBUF_C_LABEL_REPEATED);
    case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return wire == 1 || (wire == 2 && field->label == PROTOBUF_C_LABEL_REPEATED);
    case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FLOAT:
        return wire == 5 || (wire == 2 && field->label == PROTOBUF_C_LABEL_REPEATED);
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_BYTES: case PROTOBUF_C_TYPE_MESSAGE:
        return wire == 2;
    }
    return 0;
}

static int record_range(VigilWireRanges *ranges, size_t start, size_t length) {
    if (ranges->count == ranges->capacity) {
        size_t capacity = ranges->capacity ? ranges->capacity * 2 : 64;
        VigilWireRange *grown = realloc(ranges->items, capacity * sizeof(VigilWireRange));
        if (grown == NULL) return 0;
        ranges->items = grown;
        ranges->capacity = capacity;
    }
    ranges->items[ranges->count].offset = start;
    ranges->items[ranges->count].length = length;
    ranges->count++;
    return 1;
}

VigilWireStatus vigil_wire_guard_check(const ProtobufCMessageDescriptor *descriptor,
                                       const uint8_t *data, size_t length,
                                       unsigned max_depth, size_t *offset) {
    return vigil_wire_guard_scan(descriptor, data, length, max_depth, offset, NULL);
}

VigilWireStatus vigil_wire_guard_scan(const ProtobufCMessageDescriptor *descriptor,
                                      const uint8_t *data, size_t length,
                                      unsigned max_depth, size_t *offset,
                                      VigilWireRanges *large_bytes) {
    Frame stack[VIGIL_WIRE_MAX_STACK];
    unsigned depth = 0;
    size_t pos = 0;
    if (max_depth >= VIGIL_WIRE_MAX_STACK) max_depth = VIGIL_WIRE_MAX_STACK - 1;
    stack[0].descriptor = descriptor;
    stack[0].end = length;
    for (;;) {
        while (depth > 0 && pos == stack[depth].end) depth--;
        if (depth == 0 && pos == length) return VIGIL_WIRE_OK;
        size_t end = stack[depth].end;
        size_t start = pos;
        uint64_t key;
        *offset = start;
        if (!read_varint(data, end, &pos, &key)) return VIGIL_WIRE_TRUNCATED;
        unsigned wire = (unsigned)(key & 7);
        uint64_t number = key >> 3;
        if (number == 0 || number > 0x1fffffff) return VIGIL_WIRE_BAD_TAG;
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field(stack[depth].descriptor, (unsigned)number);
        if (field != NULL && !wire_type_fits(field, wire)) return VIGIL_WIRE_BAD_WIRE_TYPE;
        uint64_t value;
        switch (wire) {
        case 0:
            if (!read_varint(data, end, &pos, &value)) return VIGIL_WIRE_TRUNCATED;
            break;
        case 1:
            if (end - pos < 8) return VIGIL_WIRE_TRUNCATED;
            pos += 8;
            break;
        case 5:
            if (end - pos < 4) return VIGIL_WIRE_TRUNCATED;
            pos += 4;
            break;
        case 2:
            if (!read_varint(data, end, &pos, &value)) return VIGIL_WIRE_TRUNCATED;
            if (value > (uint64_t)(end - pos)) return VIGIL_WIRE_TRUNCATED;
            if (field != NULL && field->label == PROTOBUF_C_LABEL_REPEATED &&
                field->type != PROTOBUF_C_TYPE_MESSAGE && field->type != PROTOBUF_C_TYPE_STRING &&
                field->type != PROTOBUF_C_TYPE_BYTES) {
                /* a packed run: fixed-size elements must tile it, varints must end inside it */
                size_t run_end = pos + (size_t)value;
                switch (field->type) {
                case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FLOAT:
                    if (value % 4 != 0) return VIGIL_WIRE_TRUNCATED;
                    pos = run_end;
                    break;
                case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE:
                    if (value % 8 != 0) return VIGIL_WIRE_TRUNCATED;
                    pos = run_end;
                    break;
                default:
                    while (pos < run_end) {
                        uint64_t element;
                        if (!read_varint(data, run_end, &pos, &element)) return VIGIL_WIRE_TRUNCATED;
                    }
                }
            } else if (field != NULL && field->type == PROTOBUF_C_TYPE_MESSAGE && value > 0) {
                if (depth + 1 > max_depth) return VIGIL_WIRE_TOO_DEEP;
                depth++;
                stack[depth].descriptor = (const ProtobufCMessageDescriptor *)field->descriptor;
                stack[depth].end = pos + (size_t)value;
            } else {
                if (large_bytes != NULL && field != NULL && field->type == PROTOBUF_C_TYPE_BYTES &&
                    value >= large_bytes->min_length) {
                    if (!record_range(large_bytes, pos, (size_t)value)) return VIGIL_WIRE_TRUNCATED;
                }
                pos += (size_t)value;
            }
            break;
        default:
            return VIGIL_WIRE_BAD_WIRE_TYPE;
        }
    }
}

typedef struct {
    ProtobufCBuffer base;
    int fd;
    uint8_t *data;
    size_t used;
    size_t capacity;
    int error;
    uint64_t written;
} FdBuffer;

static void fd_write_all(FdBuffer *buffer, const uint8_t *bytes, size_t length) {
    while (length > 0 && buffer->error == 0) {
        ssize_t n = write(buffer->fd, bytes, length);
        if (n < 0) {
            if (errno == EINTR) continue;
            buffer->error = errno;
            return;
        }
        bytes += n;
        length -= (size_t)n;
        buffer->written += (uint64_t)n;
    }
}

static void fd_flush(FdBuffer *buffer) {
    fd_write_all(buffer, buffer->data, buffer->used);
    buffer->used = 0;
}

static void fd_append(ProtobufCBuffer *base, size_t length, const uint8_t *bytes) {
    FdBuffer *buffer = (FdBuffer *)base;
    if (buffer->error != 0) return;
    if (length > buffer->capacity - buffer->used) {
        fd_flush(buffer);
        if (length >= buffer->capacity) {
            fd_write_all(buffer, bytes, length);
            return;
        }
    }
    memcpy(buffer->data + buffer->used, bytes, length);
    buffer->used += length;
}

int vigil_wire_pack_to_fd(const ProtobufCMessage *message, int fd, uint64_t *written) {
    FdBuffer buffer;
    buffer.base.append = fd_append;
    buffer.fd = fd;
    buffer.capacity = 1u << 20;
    buffer.data = malloc(buffer.capacity);
    buffer.used = 0;
    buffer.error = 0;
    buffer.written = 0;
    if (buffer.data == NULL) return ENOMEM;
    protobuf_c_message_pack_to_buffer(message, &buffer.base);
    fd_flush(&buffer);
    free(buffer.data);
    *written = buffer.written;
    return buffer.error;
}

/* Allocation hook: protobuf-c copies bytes fields in file order, each right after allocating
 * its buffer. When the buffer for large field k is requested, field k-1 has been copied, so its
 * source pages are dropped from the mapping (MADV_DONTNEED on a private read-only file mapping
 * only discards clean pages; touching them again would re-read the file). A size mismatch just
 * skips the release, so a wrong guess never affects correctness. */
static void release_range(VigilReleasingAllocator *a, size_t index) {
    const VigilWireRange *range = &a->ranges->items[index];
    uintptr_t start = (uintptr_t)(a->base + range->offset);
    uintptr_t end = start + range->length;
    uintptr_t page = (uintptr_t)a->page_size;
    start = (start + page - 1) / page * page;
    end = end / page * page;
    if (end > start) madvise((void *)start, end - start, MADV_DONTNEED);
}

static void *releasing_alloc(void *data, size_t size) {
    VigilReleasingAllocator *a = data;
    if (a->ranges != NULL && size >= a->ranges->min_length && a->next < a->ranges->count &&
        a->ranges->items[a->next].length == size) {
        if (a->next > 0) release_range(a, a->next - 1);
        a->next++;
    }
    return malloc(size);
}

static void releasing_free(void *data, void *pointer) {
    (void)data;
    free(pointer);
}

void vigil_releasing_allocator_init(VigilReleasingAllocator *allocator, const uint8_t *base,
                                    const VigilWireRanges *ranges) {
    allocator->allocator.alloc = releasing_alloc;
    allocator->allocator.free = releasing_free;
    allocator->allocator.allocator_data = allocator;
    allocator->base = base;
    allocator->ranges = ranges;
    allocator->next = 0;
    allocator->page_size = (size_t)sysconf(_SC_PAGESIZE);
}

void vigil_releasing_allocator_finish(VigilReleasingAllocator *allocator) {
    if (allocator->ranges != NULL && allocator->next > 0) release_range(allocator, allocator->next - 1);
}

void vigil_wire_ranges_free(VigilWireRanges *ranges) {
    free(ranges->items);
    ranges->items = NULL;
    ranges->count = ranges->capacity = 0;
}
