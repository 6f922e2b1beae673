package io.github.lsq4j.samples.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads unsigned-byte IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed (told
 * apart by their first bytes). Damaged files fail with an {@link IOException} that names the file and
 * what is wrong with it.
 */
public final class IdxFile {
    private static final int UNSIGNED_BYTE = 0x08;

    private IdxFile() {
    }

    /**
     * A rank-3 IDX file of images.
     *
     * @param count  number of images
     * @param rows   image height
     * @param cols   image width
     * @param pixels {@code count * rows * cols} unsigned bytes, image after image, row-major
     */
    public record Images(int count, int rows, int cols, byte[] pixels) {
        /**
         * @param index an image index
         * @param row   a row
         * @param col   a column
         * @return the pixel value, 0 to 255
         */
        public int pixel(int index, int row, int col) {
            return pixels[(index * rows + row) * cols + col] & 0xff;
        }
    }

    /**
     * Reads a rank-3 unsigned-byte IDX file (images).
     *
     * @param file the file, plain or gzipped
     * @return the images
     * @throws IOException if the file is missing, truncated, corrupt or not an image IDX file
     */
    public static Images readImages(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int[] dims = readHeader(in, file, 3);
            byte[] pixels = readBody(in, file, Math.multiplyExact(Math.multiplyExact(dims[0], dims[1]), dims[2]));
            return new Images(dims[0], dims[1], dims[2], pixels);
        } catch (ZipException e) {
            throw corruptGzip(file, e);
        }
    }

    /**
     * Reads a rank-1 unsigned-byte IDX file (labels).
     *
     * @param file the file, plain or gzipped
     * @return one label per example
     * @throws IOException if the file is missing, truncated, corrupt or not a label IDX file
     */
    public static byte[] readLabels(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int[] dims = readHeader(in, file, 1);
            return readBody(in, file, dims[0]);
        } catch (ZipException e) {
            throw corruptGzip(file, e);
        }
    }

    /** The gzip layer's own errors ("invalid block type", "Corrupt GZIP trailer") do not name the file. */
    private static IOException corruptGzip(Path file, ZipException e) {
        return new IOException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
    }

    private static DataInputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "IDX file not found");
        }
        InputStream raw = new BufferedInputStream(Files.newInputStream(file));
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        boolean gzip = b0 == 0x1f && b1 == 0x8b;
        return new DataInputStream(gzip ? new BufferedInputStream(new GZIPInputStream(raw)) : raw);
    }

    private static int[] readHeader(DataInputStream in, Path file, int rank) throws IOException {
        int magic;
        try {
            magic = in.readInt();
        } catch (EOFException e) {
            throw new IOException(file + ": empty or truncated IDX header", e);
        }
        int type = (magic >>> 8) & 0xff;
        int fileRank = magic & 0xff;
        if ((magic >>> 16) != 0 || type != UNSIGNED_BYTE || fileRank != rank) {
            throw new IOException(String.format("%s: not an unsigned-byte IDX file of rank %d (magic 0x%08x)",
                    file, rank, magic));
        }
        int[] dims = new int[rank];
        try {
            for (int d = 0; d < rank; d++) {
                dims[d] = in.readInt();
                if (dims[d] < 0) {
                    throw new IOException(file + ": negative dimension " + dims[d]);
                }
            }
        } catch (EOFException e) {
            throw new IOException(file + ": truncated IDX header", e);
        }
        return dims;
    }

    private static byte[] readBody(DataInputStream in, Path file, int length) throws IOException {
        byte[] body = new byte[length];
        try {
            in.readFully(body);
        } catch (EOFException e) {
            throw new IOException(file + ": truncated, expected " + length + " data bytes", e);
        }
        if (in.read() != -1) {
            throw new IOException(file + ": longer than its header says (" + length + " data bytes)");
        }
        return body;
    }
}
