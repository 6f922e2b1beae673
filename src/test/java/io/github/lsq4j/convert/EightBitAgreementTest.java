package io.github.lsq4j.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.data.FashionMnist;
import io.github.lsq4j.data.ImageClassificationIterator;
import io.github.lsq4j.data.LabeledImages;
import io.github.lsq4j.layers.LsqLayers;
import java.io.IOException;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At 8 bits a converted, calibrated network predicts what the trained float network predicts. The
 * float network is an MLP trained on all of Fashion-MNIST for 3 epochs (about 86% accurate): with the
 * paper's step initialization, 8-bit quantization flips only predictions whose margin is tiny, so a
 * barely trained network (many such predictions) would agree less.
 */
class EightBitAgreementTest {
    private static final Logger log = LoggerFactory.getLogger(EightBitAgreementTest.class);

    @Test
    void eightBitTopOneAgreesWithTheFloatNetworkOnAtLeast99Percent() throws IOException {
        LabeledImages train = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TRAIN);
        LabeledImages test = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST);
        MultiLayerNetwork original = ConvertTestNets.mlp(3);
        for (int epoch = 0; epoch < 3; epoch++) {
            original.fit(ImageClassificationIterator.builder(train, 128).normalize(FashionMnist.MEAN, FashionMnist.STD)
                    .shuffle(epoch).build());
        }

        MultiLayerNetwork quantized = LsqConverter.convert(original,
                QuantizationPolicy.builder(8).firstAndLastAtTargetBits().build());
        Map<String, Double> steps = LsqLayers.calibrate(quantized, ImageClassificationIterator.builder(train, 128)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).limit(256).build(), 2);
        assertEquals(3, steps.size());
        steps.forEach((layer, step) -> assertTrue(step > 0 && Double.isFinite(step), layer + ": " + step));

        INDArray x = ImageClassificationIterator.builder(test, 2000).normalize(FashionMnist.MEAN, FashionMnist.STD)
                .limit(2000).build().next().getFeatures();
        INDArray floatTop1 = original.output(x).argMax(1);
        INDArray quantTop1 = quantized.output(x).argMax(1);
        double agreement = floatTop1.eq(quantTop1).castTo(DataType.DOUBLE).meanNumber().doubleValue();
        log.info("8-bit top-1 agreement with the float network: {}", agreement);
        assertTrue(agreement >= 0.99, "agreement " + agreement);
    }
}
