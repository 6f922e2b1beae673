import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A stand-in for the Central Portal's publisher API on 127.0.0.1, so that .ci/release-check can run
 * central-publishing-maven-plugin to its end (stage, bundle, checksum, upload, wait for validation)
 * without uploading anything to Central. (The plugin's skipPublishing option stages nothing, so it
 * builds no bundle to check.)
 *
 * <ul>
 *   <li>{@code POST /api/v1/publisher/upload}: stores the uploaded bundle as {@code DIR/central-bundle.zip}
 *       and answers with a deployment id;</li>
 *   <li>{@code /api/v1/publisher/status}: answers that the deployment is VALIDATED (the real validation
 *       is .ci/CentralBundleCheck.java);</li>
 *   <li>anything else: 404.</li>
 * </ul>
 *
 * <p>{@code java .ci/FakeCentralPortal.java DIR} writes the port it listens on to {@code DIR/port} and
 * serves until it is killed.
 */
public final class FakeCentralPortal {
    private static final String DEPLOYMENT_ID = "release-check-0000";

    private FakeCentralPortal() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/v1/publisher/upload", exchange -> {
            try {
                byte[] body = exchange.getRequestBody().readAllBytes();
                byte[] zip = filePart(body, exchange.getRequestHeaders().getFirst("Content-Type"));
                Files.write(dir.resolve("central-bundle.zip"), zip);
                System.err.println("fake portal: received a bundle of " + zip.length + " bytes");
                respond(exchange, 201, DEPLOYMENT_ID);
            } catch (RuntimeException e) {
                respond(exchange, 400, "bad upload: " + e.getMessage());
            }
        });
        server.createContext("/api/v1/publisher/status", exchange -> respond(exchange, 200,
                "{\"deploymentId\":\"" + DEPLOYMENT_ID + "\",\"deploymentName\":\"release-check\","
                        + "\"deploymentState\":\"VALIDATED\",\"purls\":[],\"errors\":{}}"));
        server.createContext("/", exchange -> respond(exchange, 404, "not part of the fake portal"));
        server.start();
        Files.writeString(dir.resolve("port"), String.valueOf(server.getAddress().getPort()));
    }

    /** The content of the multipart body's part that has a file name. */
    static byte[] filePart(byte[] body, String contentType) {
        if (contentType == null || !contentType.contains("boundary=")) {
            throw new IllegalArgumentException("not multipart/form-data: " + contentType);
        }
        String boundary = contentType.substring(contentType.indexOf("boundary=") + 9).replace("\"", "").split(";")[0];
        byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        int start = indexOf(body, delimiter, 0);
        while (start >= 0) {
            int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), start);
            if (headersEnd < 0) {
                break;
            }
            String headers = new String(body, start, headersEnd - start, StandardCharsets.ISO_8859_1);
            int next = indexOf(body, ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1), headersEnd);
            if (next < 0) {
                break;
            }
            if (headers.contains("filename=")) {
                return Arrays.copyOfRange(body, headersEnd + 4, next);
            }
            start = next + 2;
        }
        throw new IllegalArgumentException("no file part in the upload");
    }

    private static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", body.startsWith("{") ? "application/json" : "text/plain");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }
}
