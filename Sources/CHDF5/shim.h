#include <hdf5.h>
/* H5T_NATIVE_* are macros that call functions; Swift cannot import them, so these shims do. */
static inline hid_t vigil_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t vigil_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t vigil_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t vigil_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t vigil_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t vigil_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t vigil_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t vigil_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t vigil_h5s_all(void) { return H5S_ALL; }
