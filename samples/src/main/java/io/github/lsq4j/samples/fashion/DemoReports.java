package io.github.lsq4j.samples.fashion;

import io.github.lsq4j.train.EpochResult;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.nd4j.shade.jackson.databind.JsonNode;

/**
 * The demo's {@code report.json} format for one epoch, shared by the writer ({@link FashionMnistDemo})
 * and the readers ({@link PlotReport}, the demo's resume), and the atomic file write that every demo
 * output goes through.
 */
final class DemoReports {
    private DemoReports() {
    }

    /** Writes the content that {@code body} produces. */
    interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes to a temporary file next to {@code target}, then moves it over {@code target} atomically, so
     * a crash leaves the old file or the new one, never half of one.
     */
    static void writeAtomically(Path target, Body body) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + absolute.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW))) {
                body.writeTo(out);
            }
            Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** One epoch as a report entry. */
    static Map<String, Object> toJson(EpochResult e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", e.epoch());
        m.put("loss", e.meanLoss());
        m.put("top1", e.testAccuracy());
        m.put("seconds", e.seconds());
        m.put("imagesPerSecond", e.examplesPerSecond());
        return m;
    }

    /**
     * @param e    a report entry written by {@link #toJson}
     * @param file the report, for the error message
     * @return the epoch
     * @throws IOException naming the file and the field if a number is missing
     */
    static EpochResult fromJson(JsonNode e, Path file) throws IOException {
        return new EpochResult((int) number(e, "epoch", file), number(e, "loss", file), number(e, "top1", file),
                number(e, "seconds", file), number(e, "imagesPerSecond", file));
    }

    /** The number in {@code field} of {@code node}, or an error naming the file and the field. */
    static double number(JsonNode node, String field, Path file) throws IOException {
        JsonNode value = node.get(field);
        if (value == null || !value.isNumber()) {
            throw new IOException(file + ": expected a number in \"" + field + "\", got " + value);
        }
        return value.doubleValue();
    }
}
