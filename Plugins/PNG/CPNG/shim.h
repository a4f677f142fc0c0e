#ifndef VQZ_CPNG_SHIM_H
#define VQZ_CPNG_SHIM_H

// libpng reports a fatal error by calling an error function that must not return: it
// longjmps. A longjmp over a Swift frame is undefined behaviour (no cleanup, leaks,
// broken reference counts), so every libpng call that can fail runs inside one of the
// small C functions below, each with its own setjmp, and the read, write and error
// callbacks are C functions too. Swift sees 1 (done) or 0 (failed, message captured).
// The functions are static inline because a system-library target can hold no .c file.

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vqz_png {
    png_structp png;
    png_infop info;
    int writing;
    // Reading: the whole file, owned by the caller.
    const unsigned char *input;
    size_t input_size;
    size_t input_offset;
    int truncated;  // set when libpng asked for bytes past the end of the input
    // Writing: a buffer that grows as libpng writes; freed by vqz_png_free.
    unsigned char *output;
    size_t output_size;
    size_t output_capacity;
    char message[256];
    char warning[128];  // the last warning: libpng often gives the detail of an error there
    jmp_buf jump;
} vqz_png;

static void vqz_png_on_error(png_structp png, png_const_charp message) {
    vqz_png *context = (vqz_png *)png_get_error_ptr(png);
    // "Invalid IHDR data" alone does not say which limit was hit; the warning before it does.
    snprintf(context->message, sizeof context->message, "%s%s%s", message ? message : "unknown libpng error",
             context->warning[0] ? " (" : "", context->warning);
    if (context->warning[0]) strncat(context->message, ")", sizeof context->message - strlen(context->message) - 1);
    longjmp(context->jump, 1);
}

// Warnings (bad ancillary chunks, sRGB profile quibbles) never stop a decode; a library
// must not print them to stderr. The last one is kept for the error message.
static void vqz_png_on_warning(png_structp png, png_const_charp message) {
    vqz_png *context = (vqz_png *)png_get_error_ptr(png);
    strncpy(context->warning, message ? message : "", sizeof context->warning - 1);
}

static void vqz_png_read_input(png_structp png, png_bytep out, size_t count) {
    vqz_png *context = (vqz_png *)png_get_io_ptr(png);
    if (count > context->input_size - context->input_offset) {
        context->truncated = 1;
        png_error(png, "unexpected end of file");
    }
    memcpy(out, context->input + context->input_offset, count);
    context->input_offset += count;
}

static void vqz_png_write_output(png_structp png, png_bytep data, size_t count) {
    vqz_png *context = (vqz_png *)png_get_io_ptr(png);
    if (count > context->output_capacity - context->output_size) {
        size_t capacity = context->output_capacity ? context->output_capacity : 65536;
        while (capacity - context->output_size < count) {
            if (capacity > ((size_t)-1) / 2) png_error(png, "output too large");
            capacity *= 2;
        }
        unsigned char *grown = (unsigned char *)realloc(context->output, capacity);
        if (!grown) png_error(png, "out of memory");
        context->output = grown;
        context->output_capacity = capacity;
    }
    memcpy(context->output + context->output_size, data, count);
    context->output_size += count;
}

static void vqz_png_flush(png_structp png) { (void)png; }

static inline vqz_png *vqz_png_new(void) { return (vqz_png *)calloc(1, sizeof(vqz_png)); }

static inline const char *vqz_png_message(const vqz_png *context) { return context->message; }

static inline void vqz_png_free(vqz_png *context) {
    if (!context) return;
    if (context->png) {
        if (context->writing) png_destroy_write_struct(&context->png, &context->info);
        else png_destroy_read_struct(&context->png, &context->info, NULL);
    }
    free(context->output);
    free(context);
}

// Reads the chunks up to the first IDAT; png_get_IHDR then gives the declared size. No row
// buffer exists yet, so the caller checks that size against its pixel budget first.
// libpng's own limits stay on and are set here explicitly: at most 1,000,000 pixels a side
// (its default: a 2^31-1 wide row would need gigabytes), 8 MB for any ancillary chunk and
// its decompressed text or profile, and 1000 ancillary chunks.
static inline int vqz_png_read_header(vqz_png *context, const unsigned char *data, size_t size) {
    if (setjmp(context->jump)) return 0;
    context->input = data;
    context->input_size = size;
    context->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, context, vqz_png_on_error, vqz_png_on_warning);
    if (!context->png) {
        strcpy(context->message, "cannot create a libpng reader");
        return 0;
    }
    context->info = png_create_info_struct(context->png);
    if (!context->info) png_error(context->png, "out of memory");
    png_set_read_fn(context->png, context, vqz_png_read_input);
    png_set_user_limits(context->png, 1000000, 1000000);
    png_set_chunk_malloc_max(context->png, 8000000);
    png_set_chunk_cache_max(context->png, 1000);
    png_read_info(context->png, context->info);
    return 1;
}

// Sets up the transformations that turn every PNG into 8- or 16-bit gray, gray+alpha, RGB
// or RGBA: palette to RGB, low-bit gray to 8 bits, tRNS to alpha, and Adam7 passes merged.
// Afterwards png_get_* describe the expanded rows. libpng allocates its row buffers here.
static inline int vqz_png_prepare_rows(vqz_png *context) {
    if (setjmp(context->jump)) return 0;
    png_set_expand(context->png);
    png_set_interlace_handling(context->png);
    png_read_update_info(context->png, context->info);
    return 1;
}

// Decodes every row (all Adam7 passes) into rows[0..height), then reads to IEND so a
// truncated or corrupt tail is reported too.
static inline int vqz_png_read_rows(vqz_png *context, unsigned char **rows) {
    if (setjmp(context->jump)) return 0;
    png_read_image(context->png, rows);
    png_read_end(context->png, NULL);
    return 1;
}

// Writes a whole image; 16-bit rows hold big-endian samples, as PNG stores them.
static inline int vqz_png_write(vqz_png *context, png_uint_32 width, png_uint_32 height, int bit_depth,
                                int color_type, int compression_level, unsigned char **rows) {
    if (setjmp(context->jump)) return 0;
    context->writing = 1;
    context->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, context, vqz_png_on_error, vqz_png_on_warning);
    if (!context->png) {
        strcpy(context->message, "cannot create a libpng writer");
        return 0;
    }
    context->info = png_create_info_struct(context->png);
    if (!context->info) png_error(context->png, "out of memory");
    png_set_write_fn(context->png, context, vqz_png_write_output, vqz_png_flush);
    png_set_IHDR(context->png, context->info, width, height, bit_depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(context->png, compression_level);
    // Paeth on every row: on decoded photos libpng's adaptive choice picks it anyway (the same
    // bytes, docs/SPEED.md) but tries all five filters per row first, a third of the encode time.
    png_set_filter(context->png, PNG_FILTER_TYPE_BASE, PNG_FILTER_PAETH);
    png_write_info(context->png, context->info);
    png_write_image(context->png, rows);
    png_write_end(context->png, NULL);
    return 1;
}

#endif
