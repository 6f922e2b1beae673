package io.github.lsq4j.samples.fashion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.samples.data.FashionMnist;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.UnmatchedArgumentException;

/** The demo's command line keeps its options and defaults, and is strict. */
class DemoOptionsTest {

    private static DemoOptions parse(String... args) {
        DemoOptions options = new DemoOptions();
        new CommandLine(options).parseArgs(args);
        options.check();
        return options;
    }

    @Test
    void defaultsAreTheQuickRecipeOnDebiansFolder() {
        DemoOptions o = parse();
        assertEquals(FashionMnist.DEFAULT_DIR, o.data.dir());
        assertEquals(DemoOptions.QUICK, o.schedule());
        assertEquals(List.of(8, 4, 3, 2), o.bits);
        assertEquals(8, o.depth);
        assertEquals(1, o.seed);
        assertEquals(Path.of("lsq4j-fashion-demo"), o.out);
    }

    @Test
    void everyOptionIsRead() {
        DemoOptions o = parse("--data", "/d", "--recipe", "short", "--bits", "4,2", "--depth", "20", "--seed", "2",
                "--train-images", "1000", "--fp-epochs", "1", "--lsq-epochs", "2", "--out", "o");
        assertEquals(Path.of("/d"), o.data.dir());
        assertEquals(new FashionMnistDemo.Schedule("short", 1000, 1, 2), o.schedule());
        assertEquals(List.of(4, 2), o.bits);
        assertEquals(20, o.depth);
        assertEquals(2, o.seed);
        assertEquals(Path.of("o"), o.out);
    }

    @Test
    void aMisspelledOptionIsAnError() {
        assertThrows(UnmatchedArgumentException.class, () -> parse("--lsq-epoch", "1"));
        assertThrows(UnmatchedArgumentException.class, () -> parse("extra"));
    }

    @Test
    void badValuesAreRefusedWithTheValue() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("--recipe", "long")).getMessage()
                .contains("'long'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("--depth", "9")).getMessage()
                .contains("9"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("--bits", "8,1")).getMessage()
                .contains("got 1"));
        assertThrows(CommandLine.ParameterException.class, () -> parse("--seed", "x"));
    }

    @Test
    void thePytorchReferenceBelongsToResNet8WithTheUnmodifiedShortRecipe() {
        assertEquals(DemoPlots.PYTORCH_REFERENCE, DemoPlots.pytorchReferenceFor("ResNet-8", "short", 60_000, 5, 3));
        assertTrue(DemoPlots.pytorchReferenceFor("ResNet-8", "quick", 8_000, 2, 1).isEmpty());
        assertTrue(DemoPlots.pytorchReferenceFor("ResNet-20", "short", 60_000, 5, 3).isEmpty());
        assertTrue(DemoPlots.pytorchReferenceFor("ResNet-8", "short", 60_000, 1, 3).isEmpty());
    }
}
