#ifndef VQZ_PLUGIN_H
#define VQZ_PLUGIN_H

// The C ABI of vqz format plugins, version 1. docs/PLUGINS.md is the specification; this
// header is its machine-readable half. A plugin is a shared library that exports one
// function, vqz_format_plugin_v1, returning a pointer to a constant table. Everything
// crosses the boundary as plain C: sizes in fixed-width integers, strings as NUL-terminated
// UTF-8, memory that changes hands freed by the side that allocated it.
//
// It is a header-only module (no .c file): vqz reaches it through a system-library target,
// and a plugin written in C only needs this file.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// The version this header describes. A table with another abi_version is refused.
#define VQZ_PLUGIN_ABI_VERSION 1

// The exported entry point's name, as dlsym sees it.
#define VQZ_PLUGIN_ENTRY_SYMBOL "vqz_format_plugin_v1"

// vqz_format_plugin.flags
#define VQZ_PLUGIN_CAN_READ 1u
#define VQZ_PLUGIN_CAN_WRITE 2u

// Status codes returned by decode and encode. Anything else is treated as VQZ_STATUS_FAILED.
#define VQZ_STATUS_OK 0
#define VQZ_STATUS_TRUNCATED 1       // decode: the data ends before the image does
#define VQZ_STATUS_CORRUPT 2         // decode: the data breaks the format's rules
#define VQZ_STATUS_UNSUPPORTED 3     // a valid file or image using a feature the plugin lacks
#define VQZ_STATUS_TOO_LARGE 4       // decode: over max_pixels; out->width/height say the size
#define VQZ_STATUS_INVALID_OPTION 5  // encode: an option is out of range
#define VQZ_STATUS_FAILED 6          // anything else (out of memory...)

// The size of the message buffer vqz passes; plugins must honour message_size, not this.
#define VQZ_PLUGIN_MESSAGE_SIZE 256

// Pixels: height rows of width pixels, top row first, no padding between rows; each pixel
// has `channels` interleaved samples (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; alpha straight).
// bit_depth 8: one uint8_t per sample. bit_depth 16: one uint16_t per sample, in the
// machine's byte order. pixels_size is width * height * channels * bit_depth / 8 bytes.
typedef struct vqz_image {
    uint32_t width;
    uint32_t height;
    uint32_t channels;
    uint32_t bit_depth;
    void *pixels;
    size_t pixels_size;
} vqz_image;

// Encoder settings; each plugin reads the ones that concern it and ignores the rest.
typedef struct vqz_encode_options {
    int32_t quality;            // 1 (smallest) to 100 (best), for lossy formats
    int32_t compression_level;  // 0 (fastest) to 9 (smallest), for lossless formats
} vqz_encode_options;

typedef struct vqz_format_plugin {
    // VQZ_PLUGIN_ABI_VERSION, and sizeof(vqz_format_plugin) as the plugin was compiled.
    uint32_t abi_version;
    uint32_t struct_size;
    // Short name shown to users and accepted by --format ("QOI"); not empty.
    const char *name;
    // File extensions, lower case, without dots, comma-separated, preferred first ("qoi").
    const char *extensions;
    // One line on what the plugin reads and writes, for `vqz formats`; may be NULL.
    const char *summary;
    // VQZ_PLUGIN_CAN_READ and/or VQZ_PLUGIN_CAN_WRITE.
    uint32_t flags;

    // Returns 1 when data starting with these bytes is in this format, else 0. `length`
    // may be the whole file or only its first 16 bytes or more; never read past it.
    int32_t (*sniff)(const uint8_t *bytes, size_t length);

    // Decodes a whole file. On VQZ_STATUS_OK, fills *out with pixels allocated by the
    // plugin; vqz copies them and frees them with free_buffer, exactly once. On any other
    // status, out->pixels stays NULL and `message` holds a one-line reason. The plugin must
    // refuse, before allocating, an image of more than max_pixels pixels (width * height),
    // returning VQZ_STATUS_TOO_LARGE with out->width and out->height set. NULL when the
    // plugin cannot read.
    int32_t (*decode)(const uint8_t *bytes, size_t length, uint64_t max_pixels,
                      vqz_image *out, char *message, size_t message_size);

    // Encodes an image (owned by vqz, valid for the call only) to a whole file. On
    // VQZ_STATUS_OK, sets *out_bytes to a buffer allocated by the plugin and *out_size to
    // its length; vqz frees it with free_buffer. On any other status, *out_bytes stays NULL
    // and `message` holds a one-line reason. NULL when the plugin cannot write.
    int32_t (*encode)(const vqz_image *image, const vqz_encode_options *options,
                      uint8_t **out_bytes, size_t *out_size, char *message, size_t message_size);

    // Frees a buffer that decode or encode returned.
    void (*free_buffer)(void *buffer);
} vqz_format_plugin;

// The one symbol a plugin exports. Returns a table that stays valid and unchanged until
// the process exits (vqz never unloads a plugin); may be called more than once.
const vqz_format_plugin *vqz_format_plugin_v1(void);

#ifdef __cplusplus
}
#endif

#endif
