import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * Checks a Central Portal bundle (the zip that central-publishing-maven-plugin uploads) against Maven
 * Central's requirements (https://central.sonatype.org/publish/requirements/), without uploading it:
 *
 * <ul>
 *   <li>a jar's component has its pom, jar, -sources.jar and -javadoc.jar, in the Maven layout;</li>
 *   <li>every one of those files has a .asc signature that gpg verifies, and .md5 and .sha1 checksums
 *       that match it;</li>
 *   <li>the pom has groupId, artifactId, version (not a SNAPSHOT), name, description, url, licenses
 *       (name and url), developers (a name), scm (connection, developerConnection, url), and no
 *       dependency on a SNAPSHOT version;</li>
 *   <li>the pom sets project.build.outputTimestamp and the jar's entries all carry one time, not their
 *       build times (reproducible builds).</li>
 * </ul>
 *
 * <p>Run with Java 17 or newer, no compilation step: {@code java .ci/CentralBundleCheck.java BUNDLE.zip}.
 * It prints every violation and exits with 1 if there is any. {@code --self-test BUNDLE.zip} breaks
 * copies of a good bundle one rule at a time and fails unless the check catches each break;
 * {@code --list BUNDLE.zip} lists the files.
 * gpg must be on the PATH and know the signing key (GNUPGHOME).
 */
public final class CentralBundleCheck {
    private static final List<String> CHECKSUMS = List.of("md5", "sha1");

    private CentralBundleCheck() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--self-test")) {
            System.exit(selfTest(Path.of(args[1])) ? 0 : 1);
        }
        if (args.length == 2 && args[0].equals("--list")) {
            read(Path.of(args[1])).forEach((name, bytes) -> System.out.printf("  %9d  %s%n", bytes.length, name));
            return;
        }
        if (args.length != 1) {
            System.err.println("usage: java CentralBundleCheck.java [--self-test | --list] BUNDLE.zip");
            System.exit(2);
        }
        Path bundle = Path.of(args[0]);
        List<String> problems = check(read(bundle));
        if (problems.isEmpty()) {
            System.out.println("central bundle check: " + bundle + " meets Maven Central's rules");
            return;
        }
        System.err.println();
        System.err.println("CENTRAL BUNDLE CHECK FAILED: " + bundle + " breaks " + problems.size() + " rule(s):");
        problems.forEach(p -> System.err.println("  - " + p));
        System.exit(1);
    }

    /** The bundle's files by path. */
    static Map<String, byte[]> read(Path zip) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                if (!e.isDirectory()) {
                    files.put(e.getName(), in.readAllBytes());
                }
            }
        }
        return files;
    }

    /** @return one message per broken rule, empty if the bundle is fine */
    static List<String> check(Map<String, byte[]> files) throws Exception {
        List<String> problems = new ArrayList<>();
        List<String> poms = files.keySet().stream().filter(f -> f.endsWith(".pom")).toList();
        if (poms.isEmpty()) {
            problems.add("no .pom in the bundle");
            return problems;
        }
        for (String pomPath : poms) {
            checkComponent(pomPath, files, problems);
        }
        for (String file : files.keySet()) {
            if (isSignatureOrChecksum(file)) {
                continue;
            }
            if (!files.containsKey(file + ".asc")) {
                problems.add(file + ": no .asc signature");
            } else if (!gpgVerifies(files.get(file), files.get(file + ".asc"))) {
                problems.add(file + ".asc: gpg does not verify it as a signature of " + file);
            }
            for (String algorithm : CHECKSUMS) {
                byte[] sum = files.get(file + "." + algorithm);
                if (sum == null) {
                    problems.add(file + ": no ." + algorithm + " checksum");
                } else if (!new String(sum, StandardCharsets.US_ASCII).trim().startsWith(digest(algorithm, files.get(file)))) {
                    problems.add(file + "." + algorithm + ": does not match the file");
                }
            }
        }
        return problems;
    }

    private static boolean isSignatureOrChecksum(String file) {
        return file.matches(".*\\.(asc|md5|sha1|sha256|sha512)$");
    }

    private static void checkComponent(String pomPath, Map<String, byte[]> files, List<String> problems)
            throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(files.get(pomPath)));
        Element project = pom.getDocumentElement();
        Map<String, String> properties = properties(project);
        String groupId = text(project, "groupId");
        String artifactId = text(project, "artifactId");
        String version = text(project, "version");
        String packaging = text(project, "packaging");
        for (String required : List.of("modelVersion", "groupId", "artifactId", "version", "name", "description",
                "url")) {
            if (text(project, required).isBlank()) {
                problems.add(pomPath + ": <" + required + "> is missing or empty");
            }
        }
        if (version.endsWith("-SNAPSHOT")) {
            problems.add(pomPath + ": version " + version + " is a SNAPSHOT; Central takes releases only");
        }
        String dir = groupId.replace('.', '/') + "/" + artifactId + "/" + version + "/";
        String base = dir + artifactId + "-" + version;
        if (!pomPath.equals(base + ".pom")) {
            problems.add(pomPath + ": not at the Maven layout path " + base + ".pom");
        }
        if (packaging.isEmpty() || packaging.equals("jar")) {
            for (String suffix : List.of(".jar", "-sources.jar", "-javadoc.jar")) {
                if (!files.containsKey(base + suffix)) {
                    problems.add("no " + base + suffix + " (Central needs the jar, its sources and its javadoc)");
                }
            }
            if (files.containsKey(base + ".jar")) {
                checkReproducible(base + ".jar", files.get(base + ".jar"), properties, problems);
            }
        }
        requireChildren(project, pomPath, "licenses", "license", List.of("name", "url"), problems);
        requireChildren(project, pomPath, "developers", "developer", List.of("name"), problems);
        Element scm = child(project, "scm");
        if (scm == null) {
            problems.add(pomPath + ": <scm> is missing");
        } else {
            for (String field : List.of("connection", "developerConnection", "url")) {
                if (text(scm, field).isBlank()) {
                    problems.add(pomPath + ": <scm><" + field + "> is missing or empty");
                }
            }
        }
        Element dependencies = child(project, "dependencies");
        if (dependencies != null) {
            for (Element dependency : children(dependencies, "dependency")) {
                String v = interpolate(text(dependency, "version"), properties, version);
                if (v.contains("SNAPSHOT")) {
                    problems.add(pomPath + ": depends on a SNAPSHOT, " + text(dependency, "groupId") + ":"
                            + text(dependency, "artifactId") + ":" + v);
                }
            }
        }
    }

    /**
     * The pom sets project.build.outputTimestamp and every entry of the jar carries one time: none carries
     * the time it was built. (.ci/release-check also builds the jar twice and compares the bytes.)
     */
    private static void checkReproducible(String jarPath, byte[] jar, Map<String, String> properties,
                                          List<String> problems) throws IOException {
        String timestamp = properties.get("project.build.outputTimestamp");
        if (timestamp == null || timestamp.isBlank()) {
            problems.add(jarPath + ": the pom sets no project.build.outputTimestamp, so the build is not reproducible");
            return;
        }
        Long first = null;
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(jar))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                long time = e.getLastModifiedTime().toMillis();
                if (first == null) {
                    first = time;
                } else if (Math.abs(time - first) > 2000) { // DOS times have a 2-second resolution
                    problems.add(jarPath + ": entry " + e.getName() + " has time " + e.getLastModifiedTime()
                            + ", unlike the others: the build is not reproducible");
                    return;
                }
            }
        }
    }

    private static void requireChildren(Element project, String pomPath, String list, String item,
                                        List<String> fields, List<String> problems) {
        Element parent = child(project, list);
        List<Element> items = parent == null ? List.of() : children(parent, item);
        if (items.isEmpty()) {
            problems.add(pomPath + ": <" + list + "> with at least one <" + item + "> is missing");
        }
        for (Element e : items) {
            for (String field : fields) {
                if (text(e, field).isBlank()) {
                    problems.add(pomPath + ": a <" + item + "> has no <" + field + ">");
                }
            }
        }
    }

    private static Map<String, String> properties(Element project) {
        Map<String, String> properties = new LinkedHashMap<>();
        Element p = child(project, "properties");
        if (p != null) {
            NodeList nodes = p.getChildNodes();
            for (int i = 0; i < nodes.getLength(); i++) {
                if (nodes.item(i) instanceof Element e) {
                    properties.put(e.getTagName(), e.getTextContent().trim());
                }
            }
        }
        return properties;
    }

    private static String interpolate(String value, Map<String, String> properties, String projectVersion) {
        Matcher m = Pattern.compile("\\$\\{([^}]+)}").matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String key = m.group(1);
            String replacement = key.equals("project.version") ? projectVersion : properties.getOrDefault(key, m.group());
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static Element child(Element parent, String name) {
        List<Element> c = children(parent, name);
        return c.isEmpty() ? null : c.get(0);
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    private static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? "" : e.getTextContent().trim();
    }

    private static String digest(String algorithm, byte[] data) throws NoSuchAlgorithmException {
        String name = algorithm.equals("sha1") ? "SHA-1" : algorithm.toUpperCase();
        return HexFormat.of().formatHex(MessageDigest.getInstance(name).digest(data));
    }

    private static boolean gpgVerifies(byte[] data, byte[] signature) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("bundle-check");
        try {
            Path file = Files.write(dir.resolve("file"), data);
            Path asc = Files.write(dir.resolve("file.asc"), signature);
            Process gpg = new ProcessBuilder("gpg", "--batch", "--verify", asc.toString(), file.toString())
                    .redirectErrorStream(true).start();
            gpg.getInputStream().readAllBytes();
            return gpg.waitFor() == 0;
        } finally {
            for (String f : new String[] {"file", "file.asc"}) {
                Files.deleteIfExists(dir.resolve(f));
            }
            Files.delete(dir);
        }
    }

    /** Breaks copies of a good bundle one rule at a time; true if the check catches every break. */
    static boolean selfTest(Path bundle) throws Exception {
        Map<String, byte[]> good = read(bundle);
        List<String> clean = check(good);
        if (!clean.isEmpty()) {
            System.err.println("self-test: the bundle itself breaks rules: " + clean);
            return false;
        }
        String pom = good.keySet().stream().filter(f -> f.endsWith(".pom")).findFirst().orElseThrow();
        String jar = pom.replace(".pom", ".jar");
        Map<String, java.util.function.UnaryOperator<Map<String, byte[]>>> breaks = new LinkedHashMap<>();
        breaks.put("no .asc signature", f -> without(f, jar + ".asc"));
        breaks.put("no .sha1 checksum", f -> without(f, jar + ".sha1"));
        breaks.put("no .md5 checksum", f -> without(f, pom + ".md5"));
        breaks.put(".sha1: does not match", f -> with(f, jar + ".sha1", "0000".getBytes()));
        breaks.put("gpg does not verify", f -> with(f, jar, concat(f.get(jar), new byte[] {0})));
        breaks.put("-sources.jar", f -> without(f, pom.replace(".pom", "-sources.jar")));
        breaks.put("<scm> is missing", f -> editPom(f, pom, s -> s.replaceAll("(?s)<scm>.*</scm>", "")));
        breaks.put("<description> is missing", f -> editPom(f, pom, s -> s.replaceAll("(?s)<description>.*</description>", "")));
        breaks.put("<licenses>", f -> editPom(f, pom, s -> s.replaceAll("(?s)<licenses>.*</licenses>", "")));
        breaks.put("<developers>", f -> editPom(f, pom, s -> s.replaceAll("(?s)<developers>.*</developers>", "")));
        breaks.put("depends on a SNAPSHOT", f -> editPom(f, pom,
                s -> s.replaceFirst("(?s)(<dependency>.*?<version>)[^<]*(</version>)", "$11.0-SNAPSHOT$2")));
        boolean ok = true;
        for (Map.Entry<String, java.util.function.UnaryOperator<Map<String, byte[]>>> b : breaks.entrySet()) {
            List<String> problems = check(b.getValue().apply(new TreeMap<>(good)));
            boolean caught = problems.stream().anyMatch(p -> p.contains(b.getKey()));
            System.out.println("self-test: break '" + b.getKey() + "': " + (caught ? "caught" : "NOT CAUGHT " + problems));
            ok &= caught;
        }
        // The zip round trip itself must keep a good bundle good.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : good.entrySet()) {
                out.putNextEntry(new ZipEntry(e.getKey()));
                out.write(e.getValue());
            }
        }
        Path copy = Files.createTempFile("bundle", ".zip");
        try {
            Files.write(copy, bytes.toByteArray());
            ok &= check(read(copy)).isEmpty();
        } finally {
            Files.delete(copy);
        }
        System.out.println(ok ? "self-test: every break was caught" : "SELF-TEST FAILED: a broken rule went unnoticed");
        return ok;
    }

    private static Map<String, byte[]> without(Map<String, byte[]> files, String name) {
        files.remove(name);
        return files;
    }

    private static Map<String, byte[]> with(Map<String, byte[]> files, String name, byte[] content) {
        files.put(name, content);
        return files;
    }

    private static Map<String, byte[]> editPom(Map<String, byte[]> files, String pom,
                                               java.util.function.UnaryOperator<String> edit) {
        files.put(pom, edit.apply(new String(files.get(pom), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
        return files;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
