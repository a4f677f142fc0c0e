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
// truncated or corrupt tail is reported too. Chunks after the image data (eXIf and iTXt may
// stand there) go into the same info as those before it.
static inline int vqz_png_read_rows(vqz_png *context, unsigned char **rows) {
    if (setjmp(context->jump)) return 0;
    png_read_image(context->png, rows);
    png_read_end(context->png, context->info);
    return 1;
}

#define VQZ_PNG_XMP_KEYWORD "XML:com.adobe.xmp"

// The metadata libpng kept while reading, as pointers into its info (valid until
// vqz_png_free); a length of 0 means absent. libpng has already checked the profile's header
// and tag table and dropped, with a warning, a profile or eXIf chunk that fails its checks.
// Getters only: nothing here can longjmp.
typedef struct vqz_png_metadata {
    const unsigned char *icc;
    size_t icc_size;
    const unsigned char *exif;
    size_t exif_size;
    const unsigned char *xmp;
    size_t xmp_size;
} vqz_png_metadata;

static inline vqz_png_metadata vqz_png_get_metadata(const vqz_png *context) {
    vqz_png_metadata metadata = {0};
    png_charp name = NULL;
    int compression = 0;
    png_bytep profile = NULL;
    png_uint_32 profile_size = 0;
    if (png_get_iCCP(context->png, context->info, &name, &compression, &profile, &profile_size) && profile) {
        metadata.icc = profile;
        metadata.icc_size = profile_size;
    }
    png_bytep exif = NULL;
    png_uint_32 exif_size = 0;
    if (png_get_eXIf_1(context->png, context->info, &exif_size, &exif) && exif) {
        metadata.exif = exif;
        metadata.exif_size = exif_size;
    }
    png_textp texts = NULL;
    int count = 0;
    png_get_text(context->png, context->info, &texts, &count);
    for (int i = 0; i < count; i++) {
        // XMP is only ever stored as iTXt, whose length is itxt_length (text_length is 0).
        if (texts[i].compression >= PNG_ITXT_COMPRESSION_NONE && texts[i].key && texts[i].text &&
            strcmp(texts[i].key, VQZ_PNG_XMP_KEYWORD) == 0) {
            metadata.xmp = (const unsigned char *)texts[i].text;
            metadata.xmp_size = texts[i].itxt_length;
            break;
        }
    }
    return metadata;
}

// Writes a whole image; 16-bit rows hold big-endian samples, as PNG stores them. Metadata
// of length 0 is absent; the rest goes before the image data: iCCP (compressed), eXIf, and
// the XMP packet as an uncompressed iTXt chunk (Adobe's XMP specification, part 3), whose
// text must be followed by a NUL: png_set_text measures it with strlen.
static inline int vqz_png_write(vqz_png *context, png_uint_32 width, png_uint_32 height, int bit_depth,
                                int color_type, int compression_level, unsigned char **rows,
                                vqz_png_metadata metadata) {
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
    // A profile libpng finds invalid, or of another colour space than the image (an RGB
    // profile on a gray PNG), is then dropped with a warning instead of failing the write.
    png_set_benign_errors(context->png, 1);
    if (metadata.icc_size > 0 && metadata.icc_size <= PNG_UINT_31_MAX)
        png_set_iCCP(context->png, context->info, "ICC profile", PNG_COMPRESSION_TYPE_BASE, metadata.icc,
                     (png_uint_32)metadata.icc_size);
    if (metadata.exif_size > 0 && metadata.exif_size <= PNG_UINT_31_MAX)
        png_set_eXIf_1(context->png, context->info, (png_uint_32)metadata.exif_size, (png_bytep)metadata.exif);
    if (metadata.xmp_size > 0) {
        png_text text = {0};
        text.compression = PNG_ITXT_COMPRESSION_NONE;
        text.key = (png_charp)VQZ_PNG_XMP_KEYWORD;
        text.text = (png_charp)metadata.xmp;
        text.itxt_length = metadata.xmp_size;
        png_set_text(context->png, context->info, &text, 1);
    }
    png_write_info(context->png, context->info);
    png_write_image(context->png, rows);
    png_write_end(context->png, NULL);
    return 1;
}

#endif
