#ifndef VQZ_CJPEG_SHIM_H
#define VQZ_CJPEG_SHIM_H

// libjpeg reports a fatal error through error_exit, which must not return: it longjmps.
// A longjmp over a Swift frame is undefined behaviour, so every libjpeg call that can
// fail runs inside one of the small C functions below, each with its own setjmp, and all
// callbacks are C functions. Swift sees 1 (done) or 0 (failed, message and code captured).
// The functions are static inline because a system-library target can hold no .c file.

#include <setjmp.h>
#include <stdio.h>  // jpeglib.h uses FILE and size_t without including their headers
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

// More scans than any encoder writes; a crafted progressive file with thousands of tiny
// scans would otherwise take minutes to decode.
#define VQZ_JPEG_MAX_SCANS 1000

typedef struct vqz_jpeg_error {
    struct jpeg_error_mgr manager;  // first, so libjpeg's pointer to it is a pointer to this
    int code;                       // libjpeg's message code of the failure, -1 for ours
    int truncated;                  // the input ended before the image did
    char message[JMSG_LENGTH_MAX];
    jmp_buf jump;
} vqz_jpeg_error;

typedef struct vqz_jpeg_reader {
    struct jpeg_decompress_struct info;
    vqz_jpeg_error error;
    struct jpeg_progress_mgr progress;
} vqz_jpeg_reader;

typedef struct vqz_jpeg_writer {
    struct jpeg_compress_struct info;
    vqz_jpeg_error error;
    struct jpeg_destination_mgr destination;
    unsigned char *output;  // grows as libjpeg writes; freed by vqz_jpeg_writer_free
    size_t output_size;
    size_t output_capacity;
} vqz_jpeg_writer;

static void vqz_jpeg_on_error(j_common_ptr info) {
    vqz_jpeg_error *error = (vqz_jpeg_error *)info->err;
    error->code = error->manager.msg_code;
    (*error->manager.format_message)(info, error->message);
    longjmp(error->jump, 1);
}

// Warnings that mean the entropy-coded data is damaged or ends early are errors: libjpeg
// would pad the image with grey and carry on, and a half-grey picture is worse for a codec
// than a clear error. The rest (an unknown JFIF version or Adobe transform, a bad ICC
// profile, stray bytes between markers as some cameras write) describe pictures that decode
// whole, and stay silent.
static void vqz_jpeg_on_message(j_common_ptr info, int level) {
    vqz_jpeg_error *error = (vqz_jpeg_error *)info->err;
    if (level >= 0) return;
    switch (error->manager.msg_code) {
    case JWRN_JPEG_EOF:
        error->truncated = 1;
        vqz_jpeg_on_error(info);
        break;
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
        vqz_jpeg_on_error(info);
        break;
    default:
        break;
    }
}

static void vqz_jpeg_silence(j_common_ptr info) { (void)info; }

static void vqz_jpeg_on_progress(j_common_ptr info) {
    j_decompress_ptr decompress = (j_decompress_ptr)info;
    if (info->is_decompressor && decompress->input_scan_number > VQZ_JPEG_MAX_SCANS) {
        vqz_jpeg_error *error = (vqz_jpeg_error *)info->err;
        error->code = -1;
        snprintf(error->message, sizeof error->message, "more than %d scans", VQZ_JPEG_MAX_SCANS);
        longjmp(error->jump, 1);
    }
}

static void vqz_jpeg_install_error(j_common_ptr info, vqz_jpeg_error *error) {
    info->err = jpeg_std_error(&error->manager);
    error->manager.error_exit = vqz_jpeg_on_error;
    error->manager.emit_message = vqz_jpeg_on_message;
    error->manager.output_message = vqz_jpeg_silence;
}

static inline vqz_jpeg_reader *vqz_jpeg_reader_new(void) {
    vqz_jpeg_reader *reader = (vqz_jpeg_reader *)calloc(1, sizeof(vqz_jpeg_reader));
    if (reader) vqz_jpeg_install_error((j_common_ptr)&reader->info, &reader->error);
    return reader;
}

static inline void vqz_jpeg_reader_free(vqz_jpeg_reader *reader) {
    if (!reader) return;
    jpeg_destroy_decompress(&reader->info);  // safe on a zeroed or half-created struct
    free(reader);
}

// Reads the markers up to the first scan, keeping APP1 (EXIF, XMP) and APP2 (ICC profile
// segments). The data must stay alive until the reader is freed.
static inline int vqz_jpeg_read_header(vqz_jpeg_reader *reader, const unsigned char *data, size_t size) {
    if (setjmp(reader->error.jump)) return 0;
    jpeg_create_decompress(&reader->info);
    reader->progress.progress_monitor = vqz_jpeg_on_progress;
    reader->info.progress = &reader->progress;
    jpeg_mem_src(&reader->info, data, (unsigned long)size);
    jpeg_save_markers(&reader->info, JPEG_APP0 + 1, 0xFFFF);
    jpeg_save_markers(&reader->info, JPEG_APP0 + 2, 0xFFFF);
    jpeg_read_header(&reader->info, TRUE);
    return 1;
}

// The ICC profile of the saved APP2 segments, joined in their sequence numbers' order, in
// *profile (malloc'd, the caller frees it) and *size; 0 and NULL when there is none or the
// segments are inconsistent (libjpeg-turbo warns and returns none: a missing or repeated
// sequence number, a count that differs between segments).
static inline int vqz_jpeg_read_icc(vqz_jpeg_reader *reader, unsigned char **profile, unsigned int *size) {
    *profile = NULL;
    *size = 0;
    if (setjmp(reader->error.jump)) {
        free(*profile);
        *profile = NULL;
        *size = 0;
        return 0;
    }
    JOCTET *data = NULL;
    unsigned int length = 0;
    if (jpeg_read_icc_profile(&reader->info, &data, &length)) {
        *profile = data;
        *size = length;
    }
    return 1;
}

// Decodes all rows into pixels (`capacity` bytes, rows of `stride` bytes), then reads to
// EOI. Checks that the decoder's output fits the buffer the caller sized from the header.
static inline int vqz_jpeg_read_rows(vqz_jpeg_reader *reader, unsigned char *pixels, size_t stride,
                                     size_t capacity) {
    if (setjmp(reader->error.jump)) return 0;
    jpeg_start_decompress(&reader->info);
    if ((size_t)reader->info.output_width * (size_t)reader->info.output_components > stride ||
        (size_t)reader->info.output_height > capacity / stride) {
        reader->error.code = -1;
        strcpy(reader->error.message, "decoder output does not match the header's size");
        return 0;
    }
    while (reader->info.output_scanline < reader->info.output_height) {
        JSAMPROW row = pixels + (size_t)reader->info.output_scanline * stride;
        if (jpeg_read_scanlines(&reader->info, &row, 1) != 1) {
            reader->error.code = -1;
            strcpy(reader->error.message, "decoder made no progress");
            return 0;
        }
    }
    jpeg_finish_decompress(&reader->info);
    return 1;
}

static void vqz_jpeg_init_destination(j_compress_ptr info) {
    vqz_jpeg_writer *writer = (vqz_jpeg_writer *)info->client_data;
    writer->output_capacity = 65536;
    writer->output = (unsigned char *)malloc(writer->output_capacity);
    if (!writer->output) ERREXIT(info, JERR_OUT_OF_MEMORY);
    writer->destination.next_output_byte = writer->output;
    writer->destination.free_in_buffer = writer->output_capacity;
}

// Called when the buffer is full: double it.
static boolean vqz_jpeg_empty_output(j_compress_ptr info) {
    vqz_jpeg_writer *writer = (vqz_jpeg_writer *)info->client_data;
    size_t used = writer->output_capacity;
    if (used > ((size_t)-1) / 2) ERREXIT(info, JERR_OUT_OF_MEMORY);
    unsigned char *grown = (unsigned char *)realloc(writer->output, used * 2);
    if (!grown) ERREXIT(info, JERR_OUT_OF_MEMORY);
    writer->output = grown;
    writer->output_capacity = used * 2;
    writer->destination.next_output_byte = grown + used;
    writer->destination.free_in_buffer = used;
    return TRUE;
}

static void vqz_jpeg_term_destination(j_compress_ptr info) {
    vqz_jpeg_writer *writer = (vqz_jpeg_writer *)info->client_data;
    writer->output_size = writer->output_capacity - writer->destination.free_in_buffer;
}

static inline vqz_jpeg_writer *vqz_jpeg_writer_new(void) {
    vqz_jpeg_writer *writer = (vqz_jpeg_writer *)calloc(1, sizeof(vqz_jpeg_writer));
    if (writer) vqz_jpeg_install_error((j_common_ptr)&writer->info, &writer->error);
    return writer;
}

static inline void vqz_jpeg_writer_free(vqz_jpeg_writer *writer) {
    if (!writer) return;
    jpeg_destroy_compress(&writer->info);
    free(writer->output);
    free(writer);
}

// Frees what vqz_jpeg_read_icc returned (Swift does not see the C library's free everywhere).
static inline void vqz_jpeg_free_icc(unsigned char *profile) { free(profile); }

// The metadata segments to write; a size of 0 means absent. app1_exif and app1_xmp are whole
// APP1 payloads, their identifier included, each at most 65533 bytes; the ICC profile is
// split by libjpeg-turbo into APP2 segments (at most 255 of 65519 bytes).
typedef struct vqz_jpeg_metadata {
    const unsigned char *app1_exif;
    unsigned int app1_exif_size;
    const unsigned char *icc;
    unsigned int icc_size;
    const unsigned char *app1_xmp;
    unsigned int app1_xmp_size;
} vqz_jpeg_metadata;

// Compresses 8-bit gray (components 1) or RGB (components 3) rows of `stride` bytes, with the
// metadata segments after the JFIF APP0 segment: EXIF, ICC profile, XMP.
static inline int vqz_jpeg_write(vqz_jpeg_writer *writer, const unsigned char *pixels, size_t stride,
                                 JDIMENSION width, JDIMENSION height, int components, int quality,
                                 vqz_jpeg_metadata metadata) {
    if (setjmp(writer->error.jump)) return 0;
    jpeg_create_compress(&writer->info);
    writer->info.client_data = writer;
    writer->destination.init_destination = vqz_jpeg_init_destination;
    writer->destination.empty_output_buffer = vqz_jpeg_empty_output;
    writer->destination.term_destination = vqz_jpeg_term_destination;
    writer->info.dest = &writer->destination;
    writer->info.image_width = width;
    writer->info.image_height = height;
    writer->info.input_components = components;
    writer->info.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&writer->info);
    jpeg_set_quality(&writer->info, quality, TRUE);
    jpeg_start_compress(&writer->info, TRUE);
    if (metadata.app1_exif_size > 0)
        jpeg_write_marker(&writer->info, JPEG_APP0 + 1, metadata.app1_exif, metadata.app1_exif_size);
    if (metadata.icc_size > 0) jpeg_write_icc_profile(&writer->info, metadata.icc, metadata.icc_size);
    if (metadata.app1_xmp_size > 0)
        jpeg_write_marker(&writer->info, JPEG_APP0 + 1, metadata.app1_xmp, metadata.app1_xmp_size);
    while (writer->info.next_scanline < writer->info.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)writer->info.next_scanline * stride);
        jpeg_write_scanlines(&writer->info, &row, 1);
    }
    jpeg_finish_compress(&writer->info);
    return 1;
}

#endif
