#include <hdf5.h>
#include <string.h>
/* H5T_NATIVE_* are macros that call functions; Swift cannot import them, so these shims do. */
static inline hid_t vigil_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t vigil_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t vigil_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t vigil_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t vigil_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t vigil_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t vigil_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t vigil_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t vigil_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t vigil_h5s_all(void) { return H5S_ALL; }
static inline hid_t vigil_h5e_default(void) { return H5E_DEFAULT; }
static inline unsigned vigil_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline size_t vigil_h5t_variable(void) { return H5T_VARIABLE; }
/* Turns off HDF5's own printing of error stacks (errors are reported as Swift errors instead). */
static inline void vigil_h5e_silence(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct { char *buffer; size_t capacity; size_t used; } vigil_h5e_text;
static inline herr_t vigil_h5e_collect(unsigned n, const H5E_error2_t *entry, void *data) {
    vigil_h5e_text *text = (vigil_h5e_text *)data;
    const char *desc = (entry && entry->desc) ? entry->desc : "";
    size_t length = strlen(desc);
    if (length == 0 || text->used + length + 3 >= text->capacity) return 0;
    if (text->used > 0) { memcpy(text->buffer + text->used, ": ", 2); text->used += 2; }
    memcpy(text->buffer + text->used, desc, length);
    text->used += length;
    text->buffer[text->used] = 0;
    (void)n;
    return 0;
}
/* Writes the descriptions on the current error stack (outermost first, joined by ": ") into buffer,
   then clears the stack. Returns the number of bytes written. */
static inline size_t vigil_h5e_take_messages(char *buffer, size_t capacity) {
    vigil_h5e_text text = { buffer, capacity, 0 };
    if (capacity > 0) buffer[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, vigil_h5e_collect, &text);
    H5Eclear2(H5E_DEFAULT);
    return text.used;
}
static inline unsigned vigil_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline hid_t vigil_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t vigil_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
