package io.github.lsq4j.docs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Just enough Markdown for the documentation tests: the documentation files, their fenced code blocks,
 * the text outside them, and GitHub's heading anchors.
 */
final class Markdown {
    /** The repository root: the tests run in it (Maven's basedir). */
    static final Path ROOT = Path.of(System.getProperty("basedir", "")).toAbsolutePath();

    private static final Pattern FENCE = Pattern.compile("^(\\s*)(`{3,}|~{3,})\\s*([^`\\s]*).*$");
    private static final Pattern ATX_HEADING = Pattern.compile("^ {0,3}(#{1,6})\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern HTML_ANCHOR = Pattern.compile("<a\\s+(?:name|id)=\"([^\"]+)\"");

    private Markdown() {
    }

    /** A fenced code block: its language, its lines (the fence's indentation removed) and where it starts. */
    record Block(Path file, String language, int fenceLine, List<String> lines) {
        /** @return the file line (1-based) of the block's line {@code i} (0-based) */
        int fileLine(int i) {
            return fenceLine + 1 + i;
        }

        String where() {
            return ROOT.relativize(file) + ":" + fenceLine;
        }
    }

    /** A file's text, with the lines inside fenced code blocks blanked (so that line numbers stay). */
    record Prose(Path file, List<String> lines) {
    }

    /** @return the documentation whose Java blocks must compile: README.md and every .md under docs/ */
    static List<Path> snippetFiles() {
        List<Path> files = new ArrayList<>();
        files.add(ROOT.resolve("README.md"));
        files.addAll(markdownUnder(ROOT.resolve("docs")));
        return files;
    }

    /**
     * @return every file whose relative links must resolve: the snippet files, CHANGELOG.md,
     *         samples/README.md, samples/BENCHMARKS.md and any other .md directly in samples/ or
     *         samples/spark/
     */
    static List<Path> linkedFiles() {
        List<Path> files = new ArrayList<>(snippetFiles());
        files.add(ROOT.resolve("CHANGELOG.md"));
        files.addAll(markdownIn(ROOT.resolve("samples")));
        files.addAll(markdownIn(ROOT.resolve("samples/spark")));
        return files;
    }

    private static List<Path> markdownUnder(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".md")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Path> markdownIn(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".md")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> read(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** @return the fenced code blocks of a file's lines, in order */
    static List<Block> blocks(Path file, List<String> lines) {
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher open = FENCE.matcher(lines.get(i));
            if (!open.matches()) {
                continue;
            }
            String indent = open.group(1);
            String fence = open.group(2);
            List<String> body = new ArrayList<>();
            int j = i + 1;
            for (; j < lines.size(); j++) {
                String t = lines.get(j).strip();
                if (t.startsWith(fence) && t.chars().allMatch(c -> c == fence.charAt(0))) {
                    break;
                }
                String line = lines.get(j);
                body.add(line.startsWith(indent) ? line.substring(indent.length()) : line.stripLeading());
            }
            blocks.add(new Block(file, open.group(3).toLowerCase(Locale.ROOT), i + 1, body));
            i = j;
        }
        return blocks;
    }

    /** @return the file's lines with fenced code blocks (fences included) blanked */
    static Prose prose(Path file, List<String> lines) {
        List<String> out = new ArrayList<>(lines);
        for (Block b : blocks(file, lines)) {
            for (int i = b.fenceLine() - 1; i <= Math.min(b.fenceLine() + b.lines().size(), out.size() - 1); i++) {
                out.set(i, "");
            }
        }
        return new Prose(file, out);
    }

    /**
     * The anchors GitHub gives a file: one per heading (with {@code -1}, {@code -2} ... for repeats) and
     * explicit {@code <a name>} or {@code id} anchors.
     */
    static List<String> anchors(Path file) {
        List<String> anchors = new ArrayList<>();
        for (String line : prose(file, read(file)).lines()) {
            Matcher h = ATX_HEADING.matcher(line);
            if (h.matches()) {
                String slug = slug(h.group(2));
                String unique = slug;
                for (int n = 1; anchors.contains(unique); n++) {
                    unique = slug + "-" + n;
                }
                anchors.add(unique);
            }
            Matcher a = HTML_ANCHOR.matcher(line);
            while (a.find()) {
                anchors.add(a.group(1));
            }
        }
        return anchors;
    }

    /**
     * GitHub's anchor for a heading: the rendered text (link targets, code ticks and emphasis markers
     * gone) in lower case, with every character that is not a letter, digit, space, hyphen or underscore
     * removed and each space made a hyphen.
     */
    static String slug(String heading) {
        String text = heading
                .replaceAll("!?\\[([^\\]]*)\\]\\([^)]*\\)", "$1")  // links and images: their text
                .replaceAll("<[^>]+>", "")                          // inline HTML tags
                .replace("`", "")
                .replaceAll("(\\*+|(?<![\\p{L}\\p{N}])_+|_+(?![\\p{L}\\p{N}]))", "");  // emphasis markers
        StringBuilder slug = new StringBuilder();
        text.toLowerCase(Locale.ROOT).codePoints().forEach(c -> {
            if (c == ' ') {
                slug.append('-');
            } else if (Character.isLetterOrDigit(c) || c == '-' || c == '_') {
                slug.appendCodePoint(c);
            }
        });
        return slug.toString();
    }
}
