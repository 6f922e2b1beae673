package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFilesTest {
    @TempDir
    Path dir;

    @Test
    void savedModelRestoresWithTheSameParametersAndNoTemporaryFilesRemain() throws IOException {
        MultiLayerNetwork net = TrainTestNets.mlp(4);
        net.fit(TrainTestNets.blobs(32, 8, 1));
        Path file = dir.resolve("sub/model.zip");
        ModelFiles.save(net, file);
        ModelFiles.save(net, file);
        MultiLayerNetwork restored = ModelFiles.loadMultiLayerNetwork(file);
        assertEquals(net.params(), restored.params());
        assertEquals(net.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray());
        try (var files = Files.list(file.getParent())) {
            assertArrayEquals(new Object[] {file.getFileName().toString()},
                    files.map(p -> p.getFileName().toString()).toArray());
        }
    }

    @Test
    void failedSaveLeavesThePreviousFileIntact() throws IOException {
        MultiLayerNetwork net = TrainTestNets.mlp(4);
        Path file = dir.resolve("model.zip");
        ModelFiles.save(net, file);
        byte[] before = Files.readAllBytes(file);
        MultiLayerNetwork uninitialized = new MultiLayerNetwork(net.getLayerWiseConfigurations());
        assertThrows(Exception.class, () -> ModelFiles.save(uninitialized, file));
        assertArrayEquals(before, Files.readAllBytes(file));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void missingOrCorruptFilesAreReportedWithTheirName() throws IOException {
        Path missing = dir.resolve("absent.zip");
        assertThrows(NoSuchFileException.class, () -> ModelFiles.loadMultiLayerNetwork(missing));
        Path corrupt = Files.write(dir.resolve("corrupt.zip"), new byte[] {1, 2, 3, 4});
        IOException e = assertThrows(IOException.class, () -> ModelFiles.loadComputationGraph(corrupt));
        assertTrue(e.getMessage().contains("corrupt.zip"), e.getMessage());
    }
}
