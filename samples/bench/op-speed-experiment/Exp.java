import io.github.lsq4j.op.*;
import io.github.lsq4j.quant.*;
import org.nd4j.autodiff.samediff.*;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.ops.custom.BitCast;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMax;
import org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient;
import org.nd4j.linalg.api.ops.impl.shape.bp.MergeAvgBp;
import org.nd4j.autodiff.samediff.config.*;
import java.util.*;
import java.util.function.*;
import org.nd4j.linalg.ops.transforms.Transforms;

public class Exp {
  static String MASK = "cmp", SUM = "merge", SSHAPE = "bcast";
  static SDVariable bc(SameDiff sd, SDVariable x, DataType t) {
    BitCast op = new BitCast(sd, x, sd.constant(Nd4j.scalar(t.toInt())));
    op.addIArgument(t.toInt());
    return op.outputVariable();
  }
  static SDVariable cut(SameDiff sd, SDVariable x) {
    DataType t = x.dataType();
    DataType it = t == DataType.DOUBLE ? DataType.LONG : t == DataType.FLOAT ? DataType.INT32 : DataType.INT16;
    return bc(sd, bc(sd, x, it), t);
  }
  static SDVariable stop(SameDiff sd, SDVariable x) { return new StopGradient(sd, x).outputVariable(); }

  static SDVariable gscale(SameDiff sd, SDVariable v, long numSteps, QuantizerSpec spec) {
    GradientScale policy = spec.gradientScale();
    DataType type = v.dataType();
    if (!policy.counts()) return sd.constant(Nd4j.scalar(type, policy.fixedValue()));
    SDVariable elements = sd.prod(sd.shape(v)).castTo(type);
    if (policy.mode() == GradientScale.Mode.PAPER && spec.batched()) elements = elements.div(sd.sizeAt(v, 0).castTo(type));
    return cut(sd, sd.math.rsqrt(elements.mul((double) spec.range().qp() / numSteps)));
  }

  static SDVariable quantNew(SameDiff sd, String name, SDVariable v, SDVariable step, QuantizerSpec spec) {
    long[] vShape = v.getShape();
    StepLayout layout = spec.layout();
    long numSteps = layout.perChannelSteps() ? vShape[layout.axis()] : 1;
    QuantRange range = spec.range();
    try (NameScope ig = sd.withNameScope(name)) {
      long[] bshape = (!layout.perChannelSteps() && SSHAPE.equals("scalar")) ? new long[0] : layout.broadcastShape(vShape.length, numSteps);
      SDVariable s = sd.reshape(step, bshape);
      SDVariable sCut = cut(sd, s);
      SDVariable sG = new ScalarMax(sd, sCut, LsqMath.MIN_STEP).outputVariable();
      SDVariable vCut = cut(sd, v);
      SDVariable x = vCut.mul(sd.math.reciprocal(sG));
      SDVariable codes = sd.math.round(sd.math.clipByValue(x, -range.qn(), range.qp()));
      SDVariable vhat0 = codes.mul(sG);
      SDVariable mask;
      if (MASK.equals("cmp")) {
        mask = sd.math.and(x.gt(-range.qn()), x.lt(range.qp())).castTo(v.dataType());
      } else if (MASK.equals("step")) {
        double below = v.dataType() == DataType.DOUBLE ? Math.nextDown((double) range.qp()) : Math.nextDown((float) range.qp());
        mask = sd.math.step(x, -range.qn()).sub(sd.math.step(x, below));
      } else {
        double mid = (range.qp() - range.qn()) / 2.0, half = (range.qp() + range.qn()) / 2.0;
        mask = sd.math.abs(x.sub(mid)).lt(half).castTo(v.dataType());
      }
      SDVariable d = codes.sub(mask.mul(x));
      SDVariable b = v.sub(vCut).mul(mask);
      SDVariable sDelta = s.sub(sCut).mul(gscale(sd, v, numSteps, spec));
      SDVariable c = sDelta.mul(d);
      if (SUM.equals("merge")) return sd.math.mergeAdd(new SDVariable[]{vhat0, b, c});
      return vhat0.add(b.add(c));
    }
  }

  static SDVariable quantOld2(SameDiff sd, String name, SDVariable v, SDVariable step, QuantizerSpec spec) {
    long[] vShape = v.getShape();
    StepLayout layout = spec.layout();
    long numSteps = layout.perChannelSteps() ? vShape[layout.axis()] : 1;
    QuantRange range = spec.range();
    try (NameScope ig = sd.withNameScope(name)) {
      SDVariable s = sd.reshape(step, layout.broadcastShape(vShape.length, numSteps));
      SDVariable sFrozen = cut(sd, s);
      SDVariable sGuarded = new ScalarMax(sd, sFrozen, LsqMath.MIN_STEP).outputVariable();
      SDVariable sScaled = sGuarded.add(s.sub(sFrozen).mul(gscale(sd, v, numSteps, spec)));
      SDVariable clipped = sd.math.clipByValue(v.mul(sd.math.reciprocal(sScaled)), -range.qn(), range.qp());
      SDVariable clippedCut = cut(sd, clipped);
      SDVariable codes = sd.math.round(clippedCut);
      SDVariable roundPassed = codes.add(clipped.sub(clippedCut));
      return roundPassed.mul(sScaled);
    }
  }
  interface Builder { SDVariable build(SameDiff sd, String name, SDVariable v, SDVariable s, QuantizerSpec spec); }
  static Builder OLD = (sd, n, v, s, spec) -> LsqOp.quantize(sd, n, v, s, spec).value();
  static Builder NEW = Exp::quantNew;

  record Case(String name, SameDiff sd, Runnable fwd, Runnable bwd) {}

  static Case weights(String label, Builder b, long[] shape, StepLayout layout) {
    Nd4j.getRandom().setSeed(0);
    SameDiff sd = SameDiff.create();
    INDArray v0 = Nd4j.randn(DataType.FLOAT, shape);
    int ns = layout.numSteps(shape);
    float s0 = (float) (2 * v0.ameanNumber().doubleValue() / Math.sqrt(7));
    SDVariable v = sd.var("v", v0);
    SDVariable step = sd.var("step", Nd4j.valueArrayOf(new long[]{ns}, s0, DataType.FLOAT));
    SDVariable up = sd.constant("up", Nd4j.randn(DataType.FLOAT, shape));
    SDVariable val = b.build(sd, "q", v, step, QuantizerSpec.forWeights(4, layout, GradientScale.paper()));
    sd.setLossVariables(sd.sum("loss", val.mul(up)));
    Map<String, INDArray> ph = Collections.emptyMap();
    String vn = val.name();
    return new Case(label, sd, () -> sd.output(ph, vn), () -> sd.calculateGradients(ph, "v", "step"));
  }

  static Case conv(String label, Builder b, boolean quant) {
    Nd4j.getRandom().setSeed(0);
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 16, 28, 28);
    SDVariable w = sd.var("w", Nd4j.randn(DataType.FLOAT, 3, 3, 16, 16).muli(0.1));
    SDVariable sx = sd.var("sx", Nd4j.createFromArray(0.2f));
    SDVariable sw = sd.var("sw", Nd4j.createFromArray(0.02f));
    SDVariable xin = x, win = w;
    if (quant) {
      xin = b.build(sd, "qx", x, sx, QuantizerSpec.forInputs(4, false, GradientScale.paper()));
      win = b.build(sd, "qw", w, sw, QuantizerSpec.forWeights(4, StepLayout.perTensor(), GradientScale.paper()));
    } else {
      xin = x.mul(sx); win = w.mul(sw);
    }
    SDVariable out = sd.cnn.conv2d(xin, win, org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig.builder()
        .kH(3).kW(3).sH(1).sW(1).pH(1).pW(1).dataFormat("NCHW").build());
    SDVariable up = sd.constant("up", Nd4j.randn(DataType.FLOAT, 128, 16, 28, 28));
    sd.setLossVariables(sd.sum("loss", out.mul(up)));
    INDArray xv = Transforms.relu(Nd4j.randn(DataType.FLOAT, 128, 16, 28, 28), false);
    Map<String, INDArray> ph = Map.of("x", xv);
    String on = out.name();
    return new Case(label, sd, () -> sd.output(ph, on), () -> sd.calculateGradients(ph, "x", "w", "sx", "sw"));
  }

  static double[] time(Runnable r, int warm, int reps) {
    for (int i = 0; i < warm; i++) r.run();
    double[] ms = new double[reps];
    for (int i = 0; i < reps; i++) { long t = System.nanoTime(); r.run(); ms[i] = (System.nanoTime() - t) / 1e6; }
    Arrays.sort(ms);
    return new double[]{ms[reps / 2], ms[0]};
  }

  public static void main(String[] args) {
    String which = args[0];
    int reps = Integer.parseInt(args[1]);
    if (args.length > 2) MASK = args[2];
    if (args.length > 3) SUM = args[3];
    if (args.length > 4) SSHAPE = args[4];
    List<Case> cases = new ArrayList<>();
    String[] impls = which.split(",");
    for (String impl : impls) {
      Builder b = impl.equals("old") ? OLD : impl.equals("old2") ? Exp::quantOld2 : NEW;
      cases.add(weights(impl + " tensor[2^20]", b, new long[]{1 << 20}, StepLayout.perTensor()));
      cases.add(weights(impl + " channel[4,4,256,256]ax3", b, new long[]{4, 4, 256, 256}, StepLayout.perChannel(3)));
      cases.add(weights(impl + " channel[256,4096]ax0", b, new long[]{256, 4096}, StepLayout.perChannel(0)));
      cases.add(conv(impl + " conv[128,16,28,28]", b, true));
    }
    if (args.length > 5) cases.add(conv("noquant conv[128,16,28,28]", null, false));
    System.out.printf("%-34s %10s %10s %10s %10s%n", "case (mask=" + MASK + " sum=" + SUM + " sshape=" + SSHAPE + ")", "fwd med", "fwd best", "f+b med", "f+b best");
    if (System.getProperty("prof") != null) {
      for (Case c : cases) { Prof p = new Prof(); c.sd.setListeners(p);
        for (int i=0;i<3;i++) c.fwd.run(); p.byType.clear(); for (int i=0;i<5;i++) c.fwd.run(); p.print(c.name + " fwd", 5);
        for (int i=0;i<3;i++) c.bwd.run(); p.byType.clear(); for (int i=0;i<5;i++) c.bwd.run(); p.print(c.name + " fwd+bwd", 5);
        c.sd.setListeners(); }
      return;
    }
    if (System.getProperty("inter") != null) {
      int k = cases.size();
      double[][] fm = new double[k][reps], bm = new double[k][reps];
      for (Case c : cases) { for (int i = 0; i < 4; i++) { c.fwd.run(); c.bwd.run(); } }
      for (int r = 0; r < reps; r++) for (int j = 0; j < k; j++) {
        long t = System.nanoTime(); cases.get(j).fwd.run(); fm[j][r] = (System.nanoTime() - t) / 1e6;
        t = System.nanoTime(); cases.get(j).bwd.run(); bm[j][r] = (System.nanoTime() - t) / 1e6; }
      for (int j = 0; j < k; j++) { Arrays.sort(fm[j]); Arrays.sort(bm[j]);
        System.out.printf("%-34s %10.2f %10.2f %10.2f %10.2f%n", cases.get(j).name, fm[j][reps/2], fm[j][0], bm[j][reps/2], bm[j][0]); }
      return;
    }
    for (Case c : cases) {
      double[] f = time(c.fwd, 5, reps);
      double[] fb = time(c.bwd, 5, reps);
      System.out.printf("%-34s %10.2f %10.2f %10.2f %10.2f%n", c.name, f[0], f[1], fb[0], fb[1]);
    }
  }
}
