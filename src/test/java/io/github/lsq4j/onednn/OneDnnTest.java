package io.github.lsq4j.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** oneDNN as an optional dependency: loaded beside ND4J on one JavaCPP version, and absent without harm. */
class OneDnnTest {

    @Test
    void loadsBesideNd4jOnItsJavaCppVersion() throws Exception {
        assertEquals(6.0, Nd4j.createFromArray(1f, 2f, 3f).sumNumber().doubleValue()); // ND4J's natives first
        assertTrue(OneDnn.isAvailable(), OneDnn.unavailableReason());
        String javacpp = Loader.getVersion();
        assertEquals("1.5.7", javacpp, "ND4J 1.0.0-M2.1 is built on JavaCPP 1.5.7");
        for (String preset : new String[] {"dnnl", "openblas"}) {
            String version = Loader.getVersion("org.bytedeco", preset);
            assertTrue(version != null && version.endsWith("-" + javacpp), preset + " " + version + " on JavaCPP " + javacpp);
        }
        assertTrue(OneDnn.isaDescription().startsWith("oneDNN 2.5.2 ("), OneDnn.isaDescription());
    }

    /**
     * Without org.bytedeco:dnnl on the class path, nothing fails: oneDNN reports itself unavailable, saying
     * why, and LSQ layers find no integer kernels (they infer on their float path).
     */
    @Test
    void withoutDnnlOnTheClassPathIsUnavailableNotBroken() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.contains("/org/bytedeco/dnnl/") && !entry.contains("/org/bytedeco/opencl/")) {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            Class<?> oneDnn = loader.loadClass(OneDnn.class.getName());
            assertFalse((Boolean) oneDnn.getMethod("isAvailable").invoke(null));
            String reason = (String) oneDnn.getMethod("unavailableReason").invoke(null);
            assertTrue(reason.contains("org.bytedeco:dnnl is not on the class path"), reason);
            Class<?> inference = loader.loadClass("io.github.lsq4j.layers.IntegerInference");
            assertFalse((Boolean) inference.getMethod("isAvailable").invoke(null));
        }
    }
}
