package io.github.lsq4j.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles every fenced {@code ```java} block of README.md and of every {@code .md} file under docs/
 * against the library and the test class path (DL4J, ND4J, the zoo, ONNX Runtime), in one javac run of
 * a few seconds; nothing is executed. A block that stops compiling fails the build, with the Markdown
 * file and line of each error.
 *
 * <p>The convention for a {@code java} block (docs/contributing.md repeats it):
 * <ul>
 *   <li><b>Imports.</b> The block's leading {@code import} lines are its imports. Every block also sees
 *       the library's packages ({@code io.github.lsq4j.*}, each package on demand) and
 *       {@code java.nio.file.Path} without importing them; everything else (DL4J, ND4J, the JDK) the
 *       block imports itself (and a library class whose simple name two packages share).</li>
 *   <li><b>A whole file.</b> If the code after the imports declares a top-level class, interface,
 *       record or enum, the block is a compilation unit, compiled as it stands (without a
 *       {@code package} line: each block gets a package of its own).</li>
 *   <li><b>Statements.</b> Otherwise the code is the body of a method
 *       {@code void run() throws Exception} of a generated class.</li>
 *   <li><b>Values the reader has.</b> A declaration whose initializer is {@code ...}, as in
 *       {@code MultiLayerNetwork trained = ...;} or {@code DataSetIterator train = ..., test = ...;},
 *       stands for a value the reader brings: the test puts a placeholder of the declared type there
 *       (so the type must be written out; {@code var x = ...;} does not compile). Any other
 *       {@code ...} is a compile error.</li>
 * </ul>
 * There is no way to skip a block: write a block that is not Java, or not meant to compile, with
 * another language tag ({@code text}, {@code bash}, {@code xml}).
 */
class DocSnippetsTest {
    /** The placeholder's name in the generated source. */
    private static final String GIVEN = "__given";
    /** The class that holds the placeholder, compiled with the blocks. */
    private static final String GIVEN_CLASS = "docsnippet.Given";
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(static\\s+)?[\\w.]+(\\.\\*)?\\s*;\\s*(//.*)?$");
    private static final Pattern TYPE_DECLARATION = Pattern.compile(
            "^(@\\w+(\\([^)]*\\))?\\s+)*((public|final|abstract|sealed|non-sealed|strictfp)\\s+)*"
                    + "(class|interface|record|enum|@interface)\\s+\\w+.*");
    private static final Pattern PUBLIC_TYPE = Pattern.compile(
            "^public\\s+(?:(?:final|abstract|sealed|non-sealed|strictfp)\\s+)*(?:class|interface|record|enum)\\s+(\\w+).*");
    private static final Pattern PLACEHOLDER = Pattern.compile("=\\s*\\.\\.\\.(?=\\s*[,;])");

    @Test
    void everyJavaBlockOfTheDocumentationCompiles(@TempDir Path out) {
        List<Markdown.Block> blocks = Markdown.snippetFiles().stream()
                .flatMap(f -> Markdown.blocks(f, Markdown.read(f)).stream())
                .filter(b -> b.language().equals("java"))
                .toList();
        assertFalse(blocks.isEmpty(), "no java block found in " + Markdown.snippetFiles());
        List<String> errors = compile(blocks, out);
        if (!errors.isEmpty()) {
            fail(errors.size() + " compile error(s) in the documentation's java blocks:\n" + String.join("\n", errors));
        }
    }

    @Test
    void aBrokenSnippetFailsWithItsMarkdownLine(@TempDir Path dir) throws IOException {
        Path md = dir.resolve("broken.md");
        Files.writeString(md, """
                # A page

                ```java
                import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

                MultiLayerNetwork trained = ...;
                MultiLayerNetwork lsq = LsqConverter.convert(trained, QuantizationPolicy.paper(4));
                LsqLayers.calibrat(lsq, null);
                ```
                """);
        List<String> errors = compile(javaBlocks(md), dir.resolve("out"));
        assertEquals(1, errors.size(), String.join("\n", errors));
        assertTrue(errors.get(0).startsWith(md.getFileName() + ":8: ") || errors.get(0).contains("broken.md:8: "),
                errors.get(0));
        assertTrue(errors.get(0).contains("calibrat"), errors.get(0));
    }

    @Test
    void wholeFilesStatementsAndPlaceholdersCompile(@TempDir Path dir) throws IOException {
        Path md = dir.resolve("good.md");
        Files.writeString(md, """
                ```java
                import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

                DataSetIterator train = ..., test = ...;
                QuantizationPolicy policy = QuantizationPolicy.paper(4);
                ```

                ```java
                import java.util.List;

                public class Example {
                    static int bits(List<String> names, long... shape) {
                        return QuantizationPolicy.paper(4).bits();
                    }
                }
                ```
                """);
        List<Markdown.Block> blocks = javaBlocks(md);
        assertEquals(2, blocks.size());
        assertEquals(List.of(), compile(blocks, dir.resolve("out")));
    }

    @Test
    void anEllipsisThatIsNotAnInitializerFails(@TempDir Path dir) throws IOException {
        Path md = dir.resolve("ellipsis.md");
        Files.writeString(md, """
                ```java
                QuantizationPolicy policy = QuantizationPolicy.paper(...);
                ```
                """);
        assertFalse(compile(javaBlocks(md), dir.resolve("out")).isEmpty());
    }

    private static List<Markdown.Block> javaBlocks(Path md) {
        return Markdown.blocks(md, Markdown.read(md)).stream().filter(b -> b.language().equals("java")).toList();
    }

    /** A generated source file and, per line of it, the Markdown line it came from. */
    private record Source(Markdown.Block block, String className, List<String> lines, List<Integer> markdownLines) {
        String text() {
            return String.join("\n", lines) + "\n";
        }
    }

    /**
     * Compiles the blocks in one javac run.
     *
     * @return one line per error, {@code FILE:LINE: message}, with the Markdown file and line
     */
    static List<String> compile(List<Markdown.Block> blocks, Path out) {
        List<Source> sources = new ArrayList<>();
        for (int i = 0; i < blocks.size(); i++) {
            sources.add(toSource(blocks.get(i), "docsnippet.b" + i));
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertTrue(javac != null, "no system Java compiler: run the tests on a JDK, not a JRE");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<JavaFileObject> units = new ArrayList<>();
        List<Source> byUnit = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (Source s : sources) {
            if (s.block().lines().stream().anyMatch(l -> l.strip().startsWith("package "))) {
                refused.add(s.block().where() + ": leave the package line out of a documentation block");
            }
        }
        String given = "package docsnippet; public final class Given { private Given() { } "
                + "public static <T> T " + GIVEN + "() { throw new UnsupportedOperationException(\"documentation only\"); } }";
        units.add(new SimpleJavaFileObject(URI.create("string:///docsnippet/Given.java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return given;
            }
        });
        byUnit.add(null);
        for (Source s : sources) {
            String path = s.className().replace('.', '/') + ".java";
            units.add(new SimpleJavaFileObject(URI.create("string:///" + path), JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return s.text();
                }
            });
            byUnit.add(s);
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> options = List.of("-classpath", classPath(), "-d", out.toString(), "-proc:none",
                "-implicit:none", "-encoding", "UTF-8", "-nowarn");
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
            javac.getTask(null, files, diagnostics, options, null, units).call();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Stream.concat(refused.stream(), diagnostics.getDiagnostics().stream()
                .filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
                .sorted(Comparator.comparing((Diagnostic<? extends JavaFileObject> d) ->
                        d.getSource() == null ? "" : d.getSource().getName()).thenComparing(Diagnostic::getLineNumber))
                .map(d -> describe(d, units, byUnit)))
                .toList();
    }

    private static String describe(Diagnostic<? extends JavaFileObject> d, List<JavaFileObject> units, List<Source> byUnit) {
        String message = d.getMessage(Locale.ROOT).replace(GIVEN + "()", "...");
        int unit = units.indexOf(d.getSource());
        if (unit < 0 || byUnit.get(unit) == null || d.getLineNumber() < 1) {
            return "javac: " + message;
        }
        Source s = byUnit.get(unit);
        int line = s.markdownLines().get((int) Math.min(d.getLineNumber(), s.lines().size()) - 1);
        String code = d.getLineNumber() <= s.lines().size() ? s.lines().get((int) d.getLineNumber() - 1).strip() : "";
        return Markdown.ROOT.relativize(s.block().file().toAbsolutePath()) + ":" + line + ": " + message
                + (code.isEmpty() || message.contains(code) ? "" : "\n    " + code);
    }

    /** The block as a compilation unit of its own package, following the convention above. */
    private static Source toSource(Markdown.Block block, String pkg) {
        List<String> lines = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        int header = block.fenceLine();
        lines.add("package " + pkg + ";");
        at.add(header);
        for (String p : libraryPackages()) {
            lines.add("import " + p + ".*;");
            at.add(header);
        }
        lines.add("import java.nio.file.Path;");
        at.add(header);
        lines.add("import static " + GIVEN_CLASS + "." + GIVEN + ";");
        at.add(header);

        List<String> code = block.lines().stream()
                .map(l -> PLACEHOLDER.matcher(l).replaceAll("= " + GIVEN + "()"))
                .toList();
        int first = 0;  // the first line after the leading imports, blank lines and comments
        for (int i = 0; i < code.size(); i++) {
            String t = code.get(i).strip();
            if (IMPORT.matcher(t).matches()) {
                lines.add(t);
                at.add(block.fileLine(i));
                first = i + 1;
            } else if (t.isEmpty() || t.startsWith("//")) {
                if (first == i) {
                    first = i + 1;
                }
            } else {
                break;
            }
        }
        boolean wholeFile = code.stream().skip(first)
                .map(String::strip)
                .filter(t -> !t.isEmpty() && !t.startsWith("//") && !t.startsWith("*") && !t.startsWith("/*"))
                .findFirst()
                .map(t -> TYPE_DECLARATION.matcher(t).matches())
                .orElse(false);
        String className;
        if (wholeFile) {
            for (int i = first; i < code.size(); i++) {
                lines.add(code.get(i));
                at.add(block.fileLine(i));
            }
            className = code.stream().skip(first)
                    .map(l -> PUBLIC_TYPE.matcher(l.strip()))
                    .filter(Matcher::matches)
                    .map(m -> m.group(1))
                    .findFirst()
                    .orElse("Snippet");
        } else {
            className = "Snippet";
            lines.add("@SuppressWarnings(\"all\") final class Snippet {");
            at.add(header);
            lines.add("    void run() throws Exception {");
            at.add(header);
            for (int i = first; i < code.size(); i++) {
                lines.add(code.get(i));
                at.add(block.fileLine(i));
            }
            lines.add("    }");
            at.add(block.fileLine(code.size()));
            lines.add("}");
            at.add(block.fileLine(code.size()));
        }
        return new Source(block, pkg + "." + className, lines, at);
    }

    /** The library's packages, from the source tree (so a new package is imported without a change here). */
    private static List<String> libraryPackages() {
        Path src = Markdown.ROOT.resolve("src/main/java");
        try (Stream<Path> s = Files.walk(src)) {
            return s.filter(p -> p.toString().endsWith(".java"))
                    .map(p -> src.relativize(p.getParent()).toString().replace(File.separatorChar, '.'))
                    .filter(p -> p.startsWith("io.github.lsq4j"))
                    .distinct()
                    .sorted()
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The test class path: the library's classes and every dependency, including the optional ones. */
    private static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        return cp;
    }
}
