package io.github.lsq4j.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every relative link of the documentation (README.md, CHANGELOG.md, docs/, samples/README.md,
 * samples/BENCHMARKS.md) points at a file or folder of the repository, and a link with an anchor into a
 * Markdown file at one of its headings (GitHub's anchors). Links with a scheme ({@code https:},
 * {@code mailto:}) are not followed; links inside code blocks and code spans are not links.
 */
class DocLinksTest {
    /** {@code [text](target)}, {@code ![alt](target)}, an optional title after the target. */
    private static final Pattern INLINE_LINK = Pattern.compile("!?\\[(?:[^\\[\\]]|\\[[^\\]]*\\])*\\]\\(\\s*<?([^)\\s>]*)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
    /** {@code [label]: target} */
    private static final Pattern REFERENCE = Pattern.compile("^ {0,3}\\[[^\\]]+\\]:\\s*<?(\\S+?)>?(?:\\s+.*)?$");
    /** {@code href="..."} and {@code src="..."} of inline HTML. */
    private static final Pattern HTML = Pattern.compile("(?:href|src)=\"([^\"]*)\"");
    private static final Pattern CODE_SPAN = Pattern.compile("(`+)(?:(?!\\1).)+?\\1");
    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:.*");

    @Test
    void everyRelativeLinkResolves() {
        List<String> broken = new ArrayList<>();
        int[] links = {0};
        for (Path file : Markdown.linkedFiles()) {
            if (Files.isRegularFile(file)) {  // theDocumentationFilesExist says which is missing
                broken.addAll(check(file, links));
            }
        }
        assertTrue(links[0] > 0, "no relative link found: the test reads nothing");
        if (!broken.isEmpty()) {
            fail(broken.size() + " broken link(s):\n" + String.join("\n", broken));
        }
    }

    @Test
    void aBrokenFileOrAnchorIsCaught(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("other.md"), "# Other page\n\n## The `FOLDED` form: ONNX Runtime, on CPU\n\n## Repeat\n\n## Repeat\n");
        Path md = dir.resolve("page.md");
        Files.writeString(md, String.join("\n",
                "# Page",
                "[fine](other.md) [fine](other.md#the-folded-form-onnx-runtime-on-cpu) [fine](#page)",
                "[second heading of a name](other.md#repeat-1) ![folder](.) [web](https://example.com/x.md)",
                "`[in code](missing.md)`",
                "```text",
                "[in a block](missing.md)",
                "```",
                "[no file](missing.md) [no anchor](other.md#nowhere) [no anchor here](#nowhere)",
                ""));
        List<String> problems = check(md, new int[1]);
        assertEquals(3, problems.size(), String.join("\n", problems));
        assertTrue(problems.get(0).contains("page.md:8: missing.md"), problems.get(0));
        assertTrue(problems.get(1).contains("other.md#nowhere"), problems.get(1));
        assertTrue(problems.get(2).contains("#nowhere"), problems.get(2));
    }

    @Test
    void anchorsFollowGitHub() {
        assertEquals("deploy-onnx-with-the-integer-weights", Markdown.slug("Deploy: ONNX with the integer weights"));
        assertEquals("scale-out-parallelwrapper-and-spark", Markdown.slug("Scale out: ParallelWrapper and Spark"));
        assertEquals("the-folded-form", Markdown.slug("The `FOLDED` form"));
        assertEquals("accuracy-fashion-mnist-resnet-8-the-reference-recipe",
                Markdown.slug("Accuracy: Fashion-MNIST, ResNet-8, the reference recipe"));
        assertEquals("010---2026-12-08", Markdown.slug("[0.1.0] - 2026-12-08"));
        assertEquals("integer-inference-on-the-jvm", Markdown.slug("Integer inference on the JVM"));
        assertEquals("my_var-and-emphasis", Markdown.slug("my_var and *emphasis*"));
    }

    /** @return one line per broken link of the file: {@code FILE:LINE: target (why)} */
    private static List<String> check(Path file, int[] links) {
        List<String> problems = new ArrayList<>();
        List<String> lines = Markdown.prose(file, Markdown.read(file)).lines();
        for (int i = 0; i < lines.size(); i++) {
            String line = CODE_SPAN.matcher(lines.get(i)).replaceAll("");
            for (String target : targets(line)) {
                links[0]++;
                String why = resolve(file, target);
                if (why != null) {
                    problems.add(where(file) + ":" + (i + 1) + ": " + target + " (" + why + ")");
                }
            }
        }
        return problems;
    }

    private static List<String> targets(String line) {
        List<String> targets = new ArrayList<>();
        for (Pattern p : List.of(INLINE_LINK, REFERENCE, HTML)) {
            Matcher m = p.matcher(line);
            while (m.find()) {
                targets.add(m.group(1));
            }
        }
        return targets;
    }

    /** @return why the target does not resolve, or null if it does (or is not a relative link) */
    private static String resolve(Path from, String target) {
        if (target.isEmpty() || SCHEME.matcher(target).matches() || target.startsWith("//")) {
            return target.isEmpty() ? "empty link" : null;
        }
        int hash = target.indexOf('#');
        String path = URLDecoder.decode(hash < 0 ? target : target.substring(0, hash), StandardCharsets.UTF_8);
        String anchor = hash < 0 ? null : target.substring(hash + 1);
        if (path.startsWith("/")) {
            return "an absolute path: GitHub resolves it from the repository root, a clone does not; link relatively";
        }
        Path resolved = path.isEmpty() ? from : from.toAbsolutePath().getParent().resolve(path).normalize();
        if (!Files.exists(resolved)) {
            return "no such file";
        }
        if (anchor != null && !anchor.isEmpty() && resolved.toString().endsWith(".md") && Files.isRegularFile(resolved)) {
            List<String> anchors = Markdown.anchors(resolved);
            if (!anchors.contains(URLDecoder.decode(anchor, StandardCharsets.UTF_8))) {
                return "no heading with that anchor in " + resolved.getFileName() + "; it has " + anchors;
            }
        }
        return null;
    }

    private static String where(Path file) {
        Path abs = file.toAbsolutePath();
        return abs.startsWith(Markdown.ROOT) ? Markdown.ROOT.relativize(abs).toString() : abs.toString();
    }

    @Test
    void theDocumentationFilesExist() {
        assertFalse(Markdown.snippetFiles().isEmpty());
        for (Path f : Markdown.linkedFiles()) {
            assertTrue(Files.isRegularFile(f), "missing " + where(f));
        }
    }
}
