package io.github.lsq4j.export;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Runs an ONNX file in ONNX Runtime with every graph optimization on, as a deployment would. */
final class OnnxRuntimeRunner implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    OnnxRuntimeRunner(Path file) throws OrtException {
        this(file, OrtSession.SessionOptions.OptLevel.ALL_OPT);
    }

    OnnxRuntimeRunner(Path file, OrtSession.SessionOptions.OptLevel level) throws OrtException {
        this(file, level, null);
    }

    /** With ONNX Runtime's optimized graph written to {@code optimized} (if not null), to see its kernels. */
    OnnxRuntimeRunner(Path file, OrtSession.SessionOptions.OptLevel level, Path optimized) throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(level);
            if (optimized != null) {
                options.setOptimizedModelFilePath(optimized.toString());
            }
            options.setIntraOpNumThreads(2);
            session = env.createSession(file.toString(), options);
        }
    }

    /** The first output for one input array (float, NCHW or [batch, features]). */
    INDArray run(String inputName, INDArray x) throws OrtException {
        float[] data = x.castTo(DataType.FLOAT).dup('c').data().asFloat();
        try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), x.shape());
             OrtSession.Result result = session.run(Map.of(inputName, input))) {
            OnnxTensor out = (OnnxTensor) result.get(0);
            FloatBuffer values = out.getFloatBuffer();
            float[] copy = new float[values.remaining()];
            values.get(copy);
            return Nd4j.createFromArray(copy).reshape('c', out.getInfo().getShape());
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
