package io.github.lsq4j.convert;

import io.github.lsq4j.export.OnnxExporter;
import io.github.lsq4j.layers.LsqLayers;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.zoo.ZooModel;
import org.deeplearning4j.zoo.model.*;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

class ZooExploreTest {
    @Test
    void explore() {
        Map<String, Object[]> zoo = new LinkedHashMap<>();
        zoo.put("AlexNet", new Object[] {(Supplier<ZooModel>) () -> AlexNet.builder().numClasses(10).inputShape(new int[] {3, 224, 224}).build(), new int[] {3, 224, 224}});
        zoo.put("Darknet19", new Object[] {(Supplier<ZooModel>) () -> Darknet19.builder().numClasses(10).inputShape(new int[] {3, 64, 64}).build(), new int[] {3, 64, 64}});
        zoo.put("FaceNetNN4Small2", new Object[] {(Supplier<ZooModel>) () -> FaceNetNN4Small2.builder().numClasses(10).build(), new int[] {3, 96, 96}});
        zoo.put("InceptionResNetV1", new Object[] {(Supplier<ZooModel>) () -> InceptionResNetV1.builder().numClasses(10).build(), new int[] {3, 160, 160}});
        zoo.put("SimpleCNN", new Object[] {(Supplier<ZooModel>) () -> SimpleCNN.builder().numClasses(10).build(), new int[] {3, 48, 48}});
        zoo.put("SqueezeNet", new Object[] {(Supplier<ZooModel>) () -> SqueezeNet.builder().numClasses(10).build(), new int[] {3, 227, 227}});
        zoo.put("TinyYOLO", new Object[] {(Supplier<ZooModel>) () -> TinyYOLO.builder().numClasses(10).build(), new int[] {3, 416, 416}});
        zoo.put("UNet", new Object[] {(Supplier<ZooModel>) () -> UNet.builder().build(), new int[] {3, 512, 512}});
        zoo.put("VGG16", new Object[] {(Supplier<ZooModel>) () -> VGG16.builder().numClasses(10).build(), new int[] {3, 224, 224}});
        zoo.put("Xception", new Object[] {(Supplier<ZooModel>) () -> Xception.builder().numClasses(10).build(), new int[] {3, 299, 299}});
        zoo.put("YOLO2", new Object[] {(Supplier<ZooModel>) () -> YOLO2.builder().numClasses(10).build(), new int[] {3, 608, 608}});
        zoo.put("NASNet", new Object[] {(Supplier<ZooModel>) () -> NASNet.builder().numClasses(10).build(), new int[] {3, 224, 224}});
        for (Map.Entry<String, Object[]> e : zoo.entrySet()) {
            String stage = "init";
            try {
                @SuppressWarnings("unchecked")
                Model m = ((Supplier<ZooModel>) e.getValue()[0]).get().init();
                int[] s = (int[]) e.getValue()[1];
                stage = "convert";
                Model lsq = m instanceof MultiLayerNetwork mln ? LsqConverter.convert(mln, QuantizationPolicy.paper(4))
                        : LsqConverter.convert((ComputationGraph) m, QuantizationPolicy.paper(4));
                long q = LsqLayers.lsqLayers(lsq).size();
                stage = "calibrate";
                INDArray x = Nd4j.rand(DataType.FLOAT, 1, s[0], s[1], s[2]);
                int nOut = 10;
                INDArray out = lsq instanceof MultiLayerNetwork mln ? mln.output(x) : ((ComputationGraph) lsq).outputSingle(x);
                LsqLayers.calibrate(lsq, new SingletonDataSetIterator(new DataSet(x, out)));
                stage = "export";
                OnnxExporter.toOnnx(lsq, s[0], s[1], s[2]);
                System.err.println("ZOO " + e.getKey() + ": OK, " + q + " LSQ layers");
            } catch (Throwable t) {
                System.err.println("ZOO " + e.getKey() + ": FAILED at " + stage + ": " + t.getClass().getSimpleName() + ": "
                        + String.valueOf(t.getMessage()).replace('\n', ' ').substring(0, Math.min(300, String.valueOf(t.getMessage()).length())));
            }
        }
    }
}
