package io.github.lsq4j.samples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxFileTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void readsImagesAndLabelsPlainOrGzipped(boolean gzip) throws IOException {
        byte[] pixels = {0, 1, 2, 3, 4, 5, (byte) 250, (byte) 255, 9, 10, 11, 12};
        Path images = IdxTestFiles.write(dir.resolve("img"), IdxTestFiles.idx(3, new int[] {2, 2, 3}, pixels), gzip);
        Path labels = IdxTestFiles.write(dir.resolve("lab"), IdxTestFiles.idx(1, new int[] {2}, new byte[] {7, 1}), gzip);

        IdxFile.Images read = IdxFile.readImages(images);
        assertEquals(2, read.count());
        assertEquals(2, read.rows());
        assertEquals(3, read.cols());
        assertArrayEquals(pixels, read.pixels());
        assertEquals(255, read.pixel(1, 0, 1));
        assertArrayEquals(new byte[] {7, 1}, IdxFile.readLabels(labels));
    }

    @Test
    void truncatedFileNamesTheFileAndTheExpectedSize() throws IOException {
        byte[] full = IdxTestFiles.idx(3, new int[] {2, 2, 3}, new byte[12]);
        Path file = IdxTestFiles.write(dir.resolve("short"), Arrays.copyOf(full, full.length - 1), false);
        IOException e = assertThrows(IOException.class, () -> IdxFile.readImages(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    }

    /** Damage in the deflate stream, in the CRC trailer, and a cut gzip file: each names the file. */
    @Test
    void corruptGzipNamesTheFile() throws IOException {
        byte[] body = new byte[600];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 31 % 251);
        }
        Path good = IdxTestFiles.write(dir.resolve("good"), IdxTestFiles.idx(3, new int[] {6, 10, 10}, body), true);
        byte[] gz = Files.readAllBytes(good);
        byte[] badBlock = gz.clone();
        badBlock[10] = (byte) 0xff; // the first deflate block header: an invalid block type
        byte[] badTrailer = gz.clone();
        badTrailer[gz.length - 6] ^= 0x5a; // the CRC-32 of the data
        byte[] cut = Arrays.copyOf(gz, gz.length / 2);
        for (byte[] damaged : List.of(badBlock, badTrailer, cut)) {
            Path file = dir.resolve("damaged");
            Files.write(file, damaged);
            IOException e = assertThrows(IOException.class, () -> IdxFile.readImages(file));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    @Test
    void wrongRankOrTypeIsRefused() throws IOException {
        Path labels = IdxTestFiles.write(dir.resolve("labels"), IdxTestFiles.idx(1, new int[] {2}, new byte[2]), false);
        IOException e = assertThrows(IOException.class, () -> IdxFile.readImages(labels));
        assertTrue(e.getMessage().contains("rank 3") && e.getMessage().contains("0x00000801"), e.getMessage());
        Path text = IdxTestFiles.write(dir.resolve("text"), "hello world, no IDX".getBytes(), false);
        assertThrows(IOException.class, () -> IdxFile.readLabels(text));
    }

    @Test
    void trailingBytesAreRefused() throws IOException {
        byte[] full = IdxTestFiles.idx(1, new int[] {2}, new byte[3]);
        Path file = IdxTestFiles.write(dir.resolve("long"), full, false);
        IOException e = assertThrows(IOException.class, () -> IdxFile.readLabels(file));
        assertTrue(e.getMessage().contains("longer than its header"), e.getMessage());
    }

    @Test
    void missingFileIsReported() {
        assertThrows(NoSuchFileException.class, () -> IdxFile.readLabels(dir.resolve("absent")));
    }
}
