package io.github.lsq4j;

import io.github.lsq4j.zoo.ZooModels;
import java.util.function.IntFunction;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.zoo.model.AlexNet;
import org.deeplearning4j.zoo.model.Darknet19;
import org.deeplearning4j.zoo.model.FaceNetNN4Small2;
import org.deeplearning4j.zoo.model.InceptionResNetV1;
import org.deeplearning4j.zoo.model.SimpleCNN;
import org.deeplearning4j.zoo.model.SqueezeNet;
import org.deeplearning4j.zoo.model.TinyYOLO;
import org.deeplearning4j.zoo.model.UNet;
import org.deeplearning4j.zoo.model.VGG16;
import org.deeplearning4j.zoo.model.VGG19;
import org.deeplearning4j.zoo.model.Xception;
import org.deeplearning4j.zoo.model.YOLO2;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The zoo's vision networks, each at the smallest square input it accepts: 1x1 for those whose
 * convolutions and pools all pad (Same mode), else where a kernel, a pool or UNet's skip connections
 * first fit.
 */
public enum ZooNetworks {
    ALEX_NET(43, s -> AlexNet.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build().init()),
    DARKNET19(1, s -> Darknet19.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build().init()),
    FACE_NET_NN4_SMALL2(1, s -> FaceNetNN4Small2.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build().init()),
    INCEPTION_RES_NET_V1(75, s -> InceptionResNetV1.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build()
            .init()),
    /** The zoo's ResNet50 with its pooling fixed ({@link ZooModels}): the zoo's own fails below 132x132. */
    RES_NET50(32, s -> ZooModels.initResNet50(ZooNetworks.CLASSES, 3, s, s, 42, new Sgd(0.01))),
    /** The zoo's SimpleCNN ends in a softmax ActivationLayer, which DL4J cannot fit: a LossLayer is added. */
    SIMPLE_CNN(1, s -> withLossLayer(SimpleCNN.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build().init())),
    SQUEEZE_NET(23, s -> SqueezeNet.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build().init()),
    TINY_YOLO(1, s -> TinyYOLO.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build().init()),
    UNET(16, s -> UNet.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build().init()),
    VGG_16(1, s -> VGG16.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build().init()),
    VGG_19(1, s -> VGG19.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build().init()),
    XCEPTION(7, s -> Xception.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build().init()),
    YOLO_2(17, s -> YOLO2.builder().numClasses(ZooNetworks.CLASSES).inputShape(shape(s)).build().init());

    /** Classes of every network's output. */
    public static final int CLASSES = 10;

    /** The smallest square input size it accepts. */
    public final int size;
    /** Builds and initializes the float network for an input size. */
    public final IntFunction<Model> factory;

    ZooNetworks(int size, IntFunction<Model> factory) {
        this.size = size;
        this.factory = factory;
    }

    private static int[] shape(int size) {
        return new int[] {3, size, size};
    }

    private static MultiLayerNetwork withLossLayer(Model net) {
        return new TransferLearning.Builder((MultiLayerNetwork) net)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().build()).addLayer(new LossLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .activation(Activation.IDENTITY).build()).build();
    }
}
